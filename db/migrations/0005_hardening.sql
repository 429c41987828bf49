CREATE TABLE "install_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "ticket_spec" jsonb;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "priority" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "lease_token" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD COLUMN "outcome_unknown" boolean;--> statement-breakpoint
ALTER TABLE "violations" ADD COLUMN "start_error" text;