CREATE TABLE `release` (
	`id` text PRIMARY KEY NOT NULL,
	`member` text NOT NULL,
	`seq` integer NOT NULL,
	`entry_id` text NOT NULL,
	`requester` text NOT NULL,
	`patient` text NOT NULL,
	`record_id` text NOT NULL,
	`version` integer NOT NULL,
	`category` text NOT NULL,
	`purpose` integer NOT NULL,
	`released_at` integer NOT NULL,
	`batch_root` text,
	`proof` text
);
--> statement-breakpoint
CREATE INDEX `release_patient_idx` ON `release` (`patient`,`released_at`);--> statement-breakpoint
CREATE INDEX `release_requester_idx` ON `release` (`requester`,`released_at`);--> statement-breakpoint
CREATE INDEX `release_member_seq_idx` ON `release` (`member`,`seq`);--> statement-breakpoint
CREATE INDEX `release_batch_root_idx` ON `release` (`batch_root`);--> statement-breakpoint
CREATE TABLE `release_cursor` (
	`gateway` text PRIMARY KEY NOT NULL,
	`member` text NOT NULL,
	`last_seq` integer NOT NULL,
	`updated_at` integer NOT NULL
);
