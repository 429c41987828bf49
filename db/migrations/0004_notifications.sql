CREATE TABLE "notification_threads" (
	"connector_id" text NOT NULL,
	"ticket_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "deliveries_event_connector_uq";--> statement-breakpoint
ALTER TABLE "connectors" ADD COLUMN "notify_on" jsonb;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "notice" jsonb;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "notice_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "notification_threads_pk" ON "notification_threads" USING btree ("connector_id","ticket_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_connector_notice_uq" ON "deliveries" USING btree ("connector_id","notice_key") WHERE "deliveries"."notice_key" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_event_connector_uq" ON "deliveries" USING btree ("event_id","connector_id") WHERE "deliveries"."notice_key" is null;