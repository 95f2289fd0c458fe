CREATE TABLE "vault_extract" (
	"extract_hash" text PRIMARY KEY NOT NULL,
	"study_id" text NOT NULL,
	"epoch" bigint NOT NULL,
	"size" integer NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_extract_share" (
	"extract_hash" text NOT NULL,
	"member" text NOT NULL,
	"sealed_share" text NOT NULL,
	CONSTRAINT "vault_extract_share_extract_hash_member_pk" PRIMARY KEY("extract_hash","member")
);
