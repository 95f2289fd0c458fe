CREATE TABLE "vault_anchor" (
	"root" text PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"contract" text NOT NULL,
	"batch_id" text NOT NULL,
	"transaction_hash" text NOT NULL,
	"block_number" bigint NOT NULL,
	"leaf_count" integer NOT NULL,
	"manifest_cid" text NOT NULL,
	"anchored_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_erasure" (
	"record_id" text PRIMARY KEY NOT NULL,
	"patient" text NOT NULL,
	"erased_at" bigint NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_record_version" (
	"leaf_hash" text PRIMARY KEY NOT NULL,
	"patient" text NOT NULL,
	"record_id" text NOT NULL,
	"version" integer NOT NULL,
	"category" text NOT NULL,
	"resource_type" text NOT NULL,
	"cid" text NOT NULL,
	"supersedes" text NOT NULL,
	"reason" text,
	"sealed_key" text,
	"content_tag" text NOT NULL,
	"created_at" bigint NOT NULL,
	"batch_root" text,
	"proof" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "vault_record_version_record_version_idx" ON "vault_record_version" USING btree ("record_id","version");--> statement-breakpoint
CREATE INDEX "vault_record_version_patient_idx" ON "vault_record_version" USING btree ("patient","record_id");--> statement-breakpoint
CREATE INDEX "vault_record_version_batch_idx" ON "vault_record_version" USING btree ("batch_root");