CREATE TABLE "vault_share" (
	"record_id" text NOT NULL,
	"version" integer NOT NULL,
	"member" text NOT NULL,
	"epoch" bigint NOT NULL,
	"sealed_share" text NOT NULL,
	CONSTRAINT "vault_share_record_id_version_member_epoch_pk" PRIMARY KEY("record_id","version","member","epoch")
);
