CREATE TABLE "replay_items" (
	"replay_id" uuid NOT NULL,
	"delivery_id" uuid NOT NULL,
	"outcome" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replays" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"requested_by" text NOT NULL,
	"filter" jsonb NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"total" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "rules" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"order" integer DEFAULT 0 NOT NULL,
	"when" jsonb NOT NULL,
	"then" jsonb NOT NULL,
	"stop" boolean DEFAULT false NOT NULL,
	"origin" text DEFAULT 'api' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rules_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "ticket_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"ticket_id" uuid NOT NULL,
	"type" text NOT NULL,
	"from_status" text,
	"to_status" text,
	"source" text,
	"event_id" uuid,
	"actor" text,
	"note" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_receipts" (
	"source" text NOT NULL,
	"identifier" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "external_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "external_url" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "rule_id" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "last_recurrence_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "auto_resolve_after_ms" bigint;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "reopen_within_ms" bigint;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "sla_ms" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "replay_items_pk" ON "replay_items" USING btree ("replay_id","delivery_id");--> statement-breakpoint
CREATE INDEX "rules_order_idx" ON "rules" USING btree ("order","name");--> statement-breakpoint
CREATE INDEX "ticket_events_ticket_idx" ON "ticket_events" USING btree ("ticket_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_receipts_pk" ON "webhook_receipts" USING btree ("source","identifier");--> statement-breakpoint
CREATE INDEX "webhook_receipts_at_idx" ON "webhook_receipts" USING btree ("at");