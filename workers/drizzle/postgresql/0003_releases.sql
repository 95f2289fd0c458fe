CREATE TABLE "release" (
	"id" text PRIMARY KEY NOT NULL,
	"member" text NOT NULL,
	"seq" numeric(78, 0) NOT NULL,
	"entry_id" text NOT NULL,
	"requester" text NOT NULL,
	"patient" text NOT NULL,
	"record_id" text NOT NULL,
	"version" integer NOT NULL,
	"category" text NOT NULL,
	"purpose" integer NOT NULL,
	"released_at" numeric(78, 0) NOT NULL,
	"batch_root" text,
	"proof" text
);
--> statement-breakpoint
CREATE TABLE "release_cursor" (
	"gateway" text PRIMARY KEY NOT NULL,
	"member" text NOT NULL,
	"last_seq" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "release_patient_idx" ON "release" USING btree ("patient","released_at");--> statement-breakpoint
CREATE INDEX "release_requester_idx" ON "release" USING btree ("requester","released_at");--> statement-breakpoint
CREATE INDEX "release_member_seq_idx" ON "release" USING btree ("member","seq");--> statement-breakpoint
CREATE INDEX "release_batch_root_idx" ON "release" USING btree ("batch_root");