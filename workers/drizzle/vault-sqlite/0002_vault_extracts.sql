CREATE TABLE `vault_extract` (
	`extract_hash` text PRIMARY KEY NOT NULL,
	`study_id` text NOT NULL,
	`epoch` integer NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `vault_extract_share` (
	`extract_hash` text NOT NULL,
	`member` text NOT NULL,
	`sealed_share` text NOT NULL,
	PRIMARY KEY(`extract_hash`, `member`)
);
