CREATE TABLE "claim" (
	"id" text PRIMARY KEY NOT NULL,
	"study" text NOT NULL,
	"holder" text NOT NULL,
	"recipient" text NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consent_revocation" (
	"id" text PRIMARY KEY NOT NULL,
	"study" text NOT NULL,
	"holder" text NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enrollment" (
	"id" text PRIMARY KEY NOT NULL,
	"study" text NOT NULL,
	"participant" text NOT NULL,
	"nullifier" numeric(78, 0) NOT NULL,
	"extract_hash" text NOT NULL,
	"expires_at" numeric(78, 0) NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "irb_decision" (
	"id" text PRIMARY KEY NOT NULL,
	"study" text NOT NULL,
	"irb" text NOT NULL,
	"decision" text NOT NULL,
	"rationale_hash" text NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "issuer" (
	"id" text PRIMARY KEY NOT NULL,
	"index" numeric(78, 0) NOT NULL,
	"ax" numeric(78, 0) NOT NULL,
	"ay" numeric(78, 0) NOT NULL,
	"leaf" numeric(78, 0) NOT NULL,
	"active" boolean NOT NULL,
	"root" numeric(78, 0) NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "purchase" (
	"id" text PRIMARY KEY NOT NULL,
	"purchase_id" numeric(78, 0) NOT NULL,
	"study" text NOT NULL,
	"buyer" text NOT NULL,
	"cohort" integer NOT NULL,
	"price_per_participant" numeric(78, 0) NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"deadline" numeric(78, 0) NOT NULL,
	"status" text NOT NULL,
	"created_at_block" numeric(78, 0) NOT NULL,
	"created_at_timestamp" numeric(78, 0) NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "purchase_confirmation" (
	"id" text PRIMARY KEY NOT NULL,
	"purchase" text NOT NULL,
	"study" text NOT NULL,
	"release_hash" text NOT NULL,
	"reward_per_token" numeric(78, 0) NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refund" (
	"id" text PRIMARY KEY NOT NULL,
	"purchase" text NOT NULL,
	"study" text NOT NULL,
	"buyer" text NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "study" (
	"id" text PRIMARY KEY NOT NULL,
	"study_id" numeric(78, 0) NOT NULL,
	"researcher" text NOT NULL,
	"metadata_hash" text NOT NULL,
	"protocol_hash" text NOT NULL,
	"consent_hash" text NOT NULL,
	"criteria_hash" numeric(78, 0) NOT NULL,
	"categories" numeric(78, 0) NOT NULL,
	"payment_token" text NOT NULL,
	"price_per_participant" numeric(78, 0) NOT NULL,
	"consent_duration" numeric(78, 0) NOT NULL,
	"min_cohort" integer NOT NULL,
	"max_participants" integer NOT NULL,
	"status" text NOT NULL,
	"participants" integer NOT NULL,
	"active" integer NOT NULL,
	"purchases" integer NOT NULL,
	"purchased" numeric(78, 0) NOT NULL,
	"confirmed" numeric(78, 0) NOT NULL,
	"refunded" numeric(78, 0) NOT NULL,
	"claimed" numeric(78, 0) NOT NULL,
	"created_at_block" numeric(78, 0) NOT NULL,
	"created_at_timestamp" numeric(78, 0) NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE INDEX "claim_study_idx" ON "claim" USING btree ("study");--> statement-breakpoint
CREATE INDEX "claim_holder_idx" ON "claim" USING btree ("holder");--> statement-breakpoint
CREATE INDEX "claim_block_idx" ON "claim" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "consent_revocation_study_idx" ON "consent_revocation" USING btree ("study");--> statement-breakpoint
CREATE INDEX "consent_revocation_holder_idx" ON "consent_revocation" USING btree ("holder");--> statement-breakpoint
CREATE INDEX "consent_revocation_block_idx" ON "consent_revocation" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "enrollment_study_idx" ON "enrollment" USING btree ("study");--> statement-breakpoint
CREATE INDEX "enrollment_participant_idx" ON "enrollment" USING btree ("participant");--> statement-breakpoint
CREATE INDEX "enrollment_block_idx" ON "enrollment" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "irb_decision_study_idx" ON "irb_decision" USING btree ("study");--> statement-breakpoint
CREATE INDEX "irb_decision_block_idx" ON "irb_decision" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "purchase_study_idx" ON "purchase" USING btree ("study");--> statement-breakpoint
CREATE INDEX "purchase_buyer_idx" ON "purchase" USING btree ("buyer");--> statement-breakpoint
CREATE INDEX "purchase_status_idx" ON "purchase" USING btree ("status");--> statement-breakpoint
CREATE INDEX "purchase_confirmation_purchase_idx" ON "purchase_confirmation" USING btree ("purchase");--> statement-breakpoint
CREATE INDEX "purchase_confirmation_study_idx" ON "purchase_confirmation" USING btree ("study");--> statement-breakpoint
CREATE INDEX "purchase_confirmation_block_idx" ON "purchase_confirmation" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "refund_purchase_idx" ON "refund" USING btree ("purchase");--> statement-breakpoint
CREATE INDEX "refund_study_idx" ON "refund" USING btree ("study");--> statement-breakpoint
CREATE INDEX "refund_buyer_idx" ON "refund" USING btree ("buyer");--> statement-breakpoint
CREATE INDEX "refund_block_idx" ON "refund" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "study_researcher_idx" ON "study" USING btree ("researcher");--> statement-breakpoint
CREATE INDEX "study_status_idx" ON "study" USING btree ("status");