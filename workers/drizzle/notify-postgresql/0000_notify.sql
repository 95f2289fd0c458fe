CREATE TABLE "notify_delivery" (
	"id" text PRIMARY KEY NOT NULL,
	"patient" text NOT NULL,
	"event_id" text NOT NULL,
	"kind" text NOT NULL,
	"body" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"last_status" integer,
	"last_error" text,
	"created_at" bigint NOT NULL,
	"delivered_at" bigint
);
--> statement-breakpoint
CREATE TABLE "notify_webhook" (
	"patient" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"secret" text NOT NULL,
	"from_block" bigint NOT NULL,
	"cursor_block" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "notify_delivery_due_idx" ON "notify_delivery" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "notify_delivery_patient_idx" ON "notify_delivery" USING btree ("patient","created_at");