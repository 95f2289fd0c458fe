CREATE TABLE "organization" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" integer NOT NULL,
	"name_hash" text NOT NULL,
	"metadata_hash" text NOT NULL,
	"accredited" boolean NOT NULL,
	"accredited_until" numeric(78, 0) NOT NULL,
	"accredited_by" text NOT NULL,
	"suspension_reason_hash" text NOT NULL,
	"registered_at_block" numeric(78, 0) NOT NULL,
	"registered_at_timestamp" numeric(78, 0) NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "access_event" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"patient" text NOT NULL,
	"organization" text NOT NULL,
	"actor" text NOT NULL,
	"request_id" numeric(78, 0),
	"categories" integer,
	"purpose" integer,
	"duration" numeric(78, 0),
	"expires_at" numeric(78, 0),
	"reason_hash" text,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL,
	"log_index" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "access_request" (
	"id" text PRIMARY KEY NOT NULL,
	"request_id" numeric(78, 0) NOT NULL,
	"patient" text NOT NULL,
	"requester" text NOT NULL,
	"categories" integer NOT NULL,
	"purpose" integer NOT NULL,
	"duration" numeric(78, 0) NOT NULL,
	"status" text NOT NULL,
	"approved_categories" integer NOT NULL,
	"expires_at" numeric(78, 0) NOT NULL,
	"created_at_block" numeric(78, 0) NOT NULL,
	"created_at_timestamp" numeric(78, 0) NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "break_glass" (
	"id" text PRIMARY KEY NOT NULL,
	"patient" text NOT NULL,
	"provider" text NOT NULL,
	"categories" integer NOT NULL,
	"reason_hash" text NOT NULL,
	"opened_at" numeric(78, 0) NOT NULL,
	"expires_at" numeric(78, 0) NOT NULL,
	"closed" boolean NOT NULL,
	"closed_by" text NOT NULL,
	"closed_at" numeric(78, 0) NOT NULL,
	"openings" integer NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "access_grant" (
	"id" text PRIMARY KEY NOT NULL,
	"patient" text NOT NULL,
	"grantee" text NOT NULL,
	"categories" integer NOT NULL,
	"purpose" integer NOT NULL,
	"request_id" numeric(78, 0) NOT NULL,
	"granted_at" numeric(78, 0) NOT NULL,
	"expires_at" numeric(78, 0) NOT NULL,
	"revoked" boolean NOT NULL,
	"revoked_at" numeric(78, 0) NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patient_policy" (
	"id" text PRIMARY KEY NOT NULL,
	"never_share" integer NOT NULL,
	"banned_kinds" integer NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "committee_epoch" (
	"id" text PRIMARY KEY NOT NULL,
	"epoch" numeric(78, 0) NOT NULL,
	"size" integer NOT NULL,
	"threshold" integer NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "committee_member" (
	"id" text PRIMARY KEY NOT NULL,
	"encryption_key" text NOT NULL,
	"active" boolean NOT NULL,
	"added_at_epoch" numeric(78, 0) NOT NULL,
	"removed_at_epoch" numeric(78, 0) NOT NULL,
	"key_rotations" integer NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "log_root" (
	"id" text PRIMARY KEY NOT NULL,
	"member" text NOT NULL,
	"root" text NOT NULL,
	"count" numeric(78, 0) NOT NULL,
	"epoch" numeric(78, 0) NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "indexer_checkpoint" ADD COLUMN "organization_registry_address" text;--> statement-breakpoint
ALTER TABLE "indexer_checkpoint" ADD COLUMN "access_grants_address" text;--> statement-breakpoint
ALTER TABLE "indexer_checkpoint" ADD COLUMN "release_committee_address" text;--> statement-breakpoint
CREATE INDEX "organization_kind_idx" ON "organization" USING btree ("kind");--> statement-breakpoint
CREATE INDEX "access_event_patient_idx" ON "access_event" USING btree ("patient");--> statement-breakpoint
CREATE INDEX "access_event_organization_idx" ON "access_event" USING btree ("organization");--> statement-breakpoint
CREATE INDEX "access_event_block_idx" ON "access_event" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "access_request_patient_idx" ON "access_request" USING btree ("patient");--> statement-breakpoint
CREATE INDEX "access_request_requester_idx" ON "access_request" USING btree ("requester");--> statement-breakpoint
CREATE INDEX "break_glass_patient_idx" ON "break_glass" USING btree ("patient");--> statement-breakpoint
CREATE INDEX "break_glass_provider_idx" ON "break_glass" USING btree ("provider");--> statement-breakpoint
CREATE INDEX "access_grant_patient_idx" ON "access_grant" USING btree ("patient");--> statement-breakpoint
CREATE INDEX "access_grant_grantee_idx" ON "access_grant" USING btree ("grantee");--> statement-breakpoint
CREATE INDEX "committee_epoch_epoch_idx" ON "committee_epoch" USING btree ("epoch");--> statement-breakpoint
CREATE INDEX "committee_epoch_block_idx" ON "committee_epoch" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "log_root_member_idx" ON "log_root" USING btree ("member");--> statement-breakpoint
CREATE INDEX "log_root_root_idx" ON "log_root" USING btree ("root");--> statement-breakpoint
CREATE INDEX "log_root_block_idx" ON "log_root" USING btree ("block_number");