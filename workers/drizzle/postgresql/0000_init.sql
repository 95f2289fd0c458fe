CREATE TABLE "encryption_key_rotated" (
	"id" text PRIMARY KEY NOT NULL,
	"patient" text NOT NULL,
	"previous_key" text NOT NULL,
	"new_key" text NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL,
	"log_index" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patient" (
	"id" text PRIMARY KEY NOT NULL,
	"encryption_key" text NOT NULL,
	"key_rotations" integer NOT NULL,
	"registered_at_block" numeric(78, 0) NOT NULL,
	"registered_at_timestamp" numeric(78, 0) NOT NULL,
	"updated_at_block" numeric(78, 0) NOT NULL,
	"updated_at_timestamp" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patient_registered" (
	"id" text PRIMARY KEY NOT NULL,
	"patient" text NOT NULL,
	"encryption_key" text NOT NULL,
	"block_number" numeric(78, 0) NOT NULL,
	"block_timestamp" numeric(78, 0) NOT NULL,
	"transaction_hash" text NOT NULL,
	"log_index" numeric(78, 0) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "indexer_block" (
	"number" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"timestamp" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "indexer_checkpoint" (
	"id" text PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"contract_address" text NOT NULL,
	"start_block" bigint NOT NULL,
	"start_block_hash" text NOT NULL,
	"block_number" bigint,
	"block_hash" text,
	"block_timestamp" bigint
);
--> statement-breakpoint
CREATE TABLE "indexer_undo" (
	"block_number" bigint NOT NULL,
	"entity" text NOT NULL,
	"entity_id" text NOT NULL,
	"previous" text,
	CONSTRAINT "indexer_undo_block_number_entity_entity_id_pk" PRIMARY KEY("block_number","entity","entity_id")
);
--> statement-breakpoint
CREATE INDEX "encryption_key_rotated_patient_idx" ON "encryption_key_rotated" USING btree ("patient");--> statement-breakpoint
CREATE INDEX "encryption_key_rotated_block_idx" ON "encryption_key_rotated" USING btree ("block_number");--> statement-breakpoint
CREATE INDEX "patient_registered_patient_idx" ON "patient_registered" USING btree ("patient");--> statement-breakpoint
CREATE INDEX "patient_registered_block_idx" ON "patient_registered" USING btree ("block_number");