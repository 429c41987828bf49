ALTER TABLE "connectors" ADD COLUMN "last_check_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connectors" ADD COLUMN "last_check_ok" boolean;--> statement-breakpoint
ALTER TABLE "connectors" ADD COLUMN "last_check" jsonb;