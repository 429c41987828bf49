CREATE TABLE "audit_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "connectors" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"auto_push" boolean DEFAULT true NOT NULL,
	"config" jsonb NOT NULL,
	"secrets" text,
	"filters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"retry" jsonb,
	"origin" text DEFAULT 'api' NOT NULL,
	"last_test_at" timestamp with time zone,
	"last_test_ok" boolean,
	"last_test_result" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connectors_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event_id" uuid NOT NULL,
	"connector_id" text NOT NULL,
	"kind" text NOT NULL,
	"purpose" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"last_attempt_at" timestamp with time zone,
	"ticket_id" uuid,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "delivery_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"outcome" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"http_status" integer,
	"remote_code" text,
	"message" text,
	"retryable" boolean
);
--> statement-breakpoint
CREATE TABLE "tickets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connector_id" text NOT NULL,
	"kind" text NOT NULL,
	"event_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"external_id" text NOT NULL,
	"external_url" text NOT NULL,
	"remote_id" text,
	"sys_id" text,
	"status" text DEFAULT 'open' NOT NULL,
	"severity" text NOT NULL,
	"priority" text NOT NULL,
	"correlation_key" text,
	"recurrence_count" integer DEFAULT 0 NOT NULL,
	"sla_due_at" timestamp with time zone,
	"sla_breached" boolean DEFAULT false NOT NULL,
	"resolved_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "violations" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"payload" jsonb NOT NULL,
	"body_hash" text NOT NULL,
	"event_type" text NOT NULL,
	"severity" text NOT NULL,
	"risk_score" double precision,
	"platform_id" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"workflow_id" text NOT NULL,
	"started_at" timestamp with time zone,
	"status" text DEFAULT 'processing' NOT NULL,
	"decisions" jsonb,
	"completed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_at_idx" ON "audit_entries" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_subject_idx" ON "audit_entries" USING btree ("subject_type","subject_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_event_connector_uq" ON "deliveries" USING btree ("event_id","connector_id");--> statement-breakpoint
CREATE INDEX "deliveries_status_idx" ON "deliveries" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "deliveries_connector_idx" ON "deliveries" USING btree ("connector_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "delivery_attempts_delivery_attempt_uq" ON "delivery_attempts" USING btree ("delivery_id","attempt");--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_idempotency_key_uq" ON "tickets" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "tickets_event_idx" ON "tickets" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "tickets_connector_external_idx" ON "tickets" USING btree ("connector_id","external_id");--> statement-breakpoint
CREATE INDEX "tickets_external_idx" ON "tickets" USING btree ("external_id");--> statement-breakpoint
CREATE INDEX "tickets_status_idx" ON "tickets" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "tickets_correlation_idx" ON "tickets" USING btree ("connector_id","correlation_key") WHERE "tickets"."status" <> 'closed';--> statement-breakpoint
CREATE INDEX "violations_received_idx" ON "violations" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "violations_status_idx" ON "violations" USING btree ("status","received_at");