CREATE TABLE "anchor_batch" (
	"id" text PRIMARY KEY NOT NULL,
	"batch_id" numeric(78, 0) NOT NULL,
	"root" text NOT NULL,
	"submitter" text NOT NULL,
	"leaf_count" numeric(78, 0) NOT NULL,
	"manifest" text NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "record_version" (
	"id" text PRIMARY KEY NOT NULL,
	"batch" text NOT NULL,
	"leaf" text NOT NULL,
	"record_id" text NOT NULL,
	"version" integer NOT NULL,
	"block_number" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "indexer_manifest" (
	"batch" text PRIMARY KEY NOT NULL,
	"manifest" text NOT NULL,
	"leaf_count" bigint NOT NULL,
	"block_number" bigint NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "indexer_checkpoint" ADD COLUMN "anchor_address" text;--> statement-breakpoint
CREATE INDEX "anchor_batch_submitter_idx" ON "anchor_batch" USING btree ("submitter");--> statement-breakpoint
CREATE INDEX "anchor_batch_block_idx" ON "anchor_batch" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "record_version_batch_idx" ON "record_version" USING btree ("batch");--> statement-breakpoint
CREATE INDEX "record_version_leaf_idx" ON "record_version" USING btree ("leaf");--> statement-breakpoint
CREATE INDEX "record_version_record_idx" ON "record_version" USING btree ("record_id");--> statement-breakpoint
CREATE INDEX "record_version_block_idx" ON "record_version" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "indexer_manifest_due_idx" ON "indexer_manifest" USING btree ("next_attempt_at");