CREATE TABLE "vault_key_backup" (
	"account" text PRIMARY KEY NOT NULL,
	"backup_id" text NOT NULL,
	"threshold" integer NOT NULL,
	"public_key" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_key_backup_share" (
	"account" text NOT NULL,
	"guardian" text NOT NULL,
	"sealed_share" text NOT NULL,
	CONSTRAINT "vault_key_backup_share_account_guardian_pk" PRIMARY KEY("account","guardian")
);
--> statement-breakpoint
CREATE TABLE "vault_keyring" (
	"account" text NOT NULL,
	"public_key" text NOT NULL,
	"sealed_secret" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "vault_keyring_account_public_key_pk" PRIMARY KEY("account","public_key")
);
--> statement-breakpoint
CREATE TABLE "vault_released_share" (
	"account" text NOT NULL,
	"nonce" bigint NOT NULL,
	"guardian" text NOT NULL,
	"released_share" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "vault_released_share_account_nonce_guardian_pk" PRIMARY KEY("account","nonce","guardian")
);
