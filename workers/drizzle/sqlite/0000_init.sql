CREATE TABLE `encryption_key_rotated` (
	`id` text PRIMARY KEY NOT NULL,
	`patient` text NOT NULL,
	`previous_key` text NOT NULL,
	`new_key` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL,
	`log_index` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `encryption_key_rotated_patient_idx` ON `encryption_key_rotated` (`patient`);--> statement-breakpoint
CREATE INDEX `encryption_key_rotated_block_idx` ON `encryption_key_rotated` (`block_number`);--> statement-breakpoint
CREATE TABLE `patient` (
	`id` text PRIMARY KEY NOT NULL,
	`encryption_key` text NOT NULL,
	`key_rotations` integer NOT NULL,
	`registered_at_block` integer NOT NULL,
	`registered_at_timestamp` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `patient_registered` (
	`id` text PRIMARY KEY NOT NULL,
	`patient` text NOT NULL,
	`encryption_key` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL,
	`log_index` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `patient_registered_patient_idx` ON `patient_registered` (`patient`);--> statement-breakpoint
CREATE INDEX `patient_registered_block_idx` ON `patient_registered` (`block_number`);--> statement-breakpoint
CREATE TABLE `indexer_block` (
	`number` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `indexer_checkpoint` (
	`id` text PRIMARY KEY NOT NULL,
	`chain_id` integer NOT NULL,
	`contract_address` text NOT NULL,
	`start_block` integer NOT NULL,
	`start_block_hash` text NOT NULL,
	`block_number` integer,
	`block_hash` text,
	`block_timestamp` integer
);
--> statement-breakpoint
CREATE TABLE `indexer_undo` (
	`block_number` integer NOT NULL,
	`entity` text NOT NULL,
	`entity_id` text NOT NULL,
	`previous` text,
	PRIMARY KEY(`block_number`, `entity`, `entity_id`)
);
