ALTER TABLE "ticket_events" ADD COLUMN "remote_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "ticket_events_remote_idx" ON "ticket_events" USING btree ("ticket_id","remote_id");