CREATE TABLE `anchor_batch` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_id` integer NOT NULL,
	`root` text NOT NULL,
	`submitter` text NOT NULL,
	`leaf_count` integer NOT NULL,
	`manifest` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `anchor_batch_submitter_idx` ON `anchor_batch` (`submitter`);--> statement-breakpoint
CREATE INDEX `anchor_batch_block_idx` ON `anchor_batch` (`block_number`);--> statement-breakpoint
CREATE TABLE `record_version` (
	`id` text PRIMARY KEY NOT NULL,
	`batch` text NOT NULL,
	`leaf` text NOT NULL,
	`record_id` text NOT NULL,
	`version` integer NOT NULL,
	`block_number` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `record_version_batch_idx` ON `record_version` (`batch`);--> statement-breakpoint
CREATE INDEX `record_version_leaf_idx` ON `record_version` (`leaf`);--> statement-breakpoint
CREATE INDEX `record_version_record_idx` ON `record_version` (`record_id`);--> statement-breakpoint
CREATE INDEX `record_version_block_idx` ON `record_version` (`block_number`);--> statement-breakpoint
CREATE TABLE `indexer_manifest` (
	`batch` text PRIMARY KEY NOT NULL,
	`manifest` text NOT NULL,
	`leaf_count` integer NOT NULL,
	`block_number` integer NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `indexer_manifest_due_idx` ON `indexer_manifest` (`next_attempt_at`);--> statement-breakpoint
ALTER TABLE `indexer_checkpoint` ADD `anchor_address` text;