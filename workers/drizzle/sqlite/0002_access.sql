CREATE TABLE `organization` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` integer NOT NULL,
	`name_hash` text NOT NULL,
	`metadata_hash` text NOT NULL,
	`accredited` integer NOT NULL,
	`accredited_until` integer NOT NULL,
	`accredited_by` text NOT NULL,
	`suspension_reason_hash` text NOT NULL,
	`registered_at_block` integer NOT NULL,
	`registered_at_timestamp` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `organization_kind_idx` ON `organization` (`kind`);--> statement-breakpoint
CREATE TABLE `access_event` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`patient` text NOT NULL,
	`organization` text NOT NULL,
	`actor` text NOT NULL,
	`request_id` integer,
	`categories` integer,
	`purpose` integer,
	`duration` integer,
	`expires_at` integer,
	`reason_hash` text,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL,
	`log_index` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `access_event_patient_idx` ON `access_event` (`patient`);--> statement-breakpoint
CREATE INDEX `access_event_organization_idx` ON `access_event` (`organization`);--> statement-breakpoint
CREATE INDEX `access_event_block_idx` ON `access_event` (`block_number`);--> statement-breakpoint
CREATE TABLE `access_request` (
	`id` text PRIMARY KEY NOT NULL,
	`request_id` integer NOT NULL,
	`patient` text NOT NULL,
	`requester` text NOT NULL,
	`categories` integer NOT NULL,
	`purpose` integer NOT NULL,
	`duration` integer NOT NULL,
	`status` text NOT NULL,
	`approved_categories` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at_block` integer NOT NULL,
	`created_at_timestamp` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `access_request_patient_idx` ON `access_request` (`patient`);--> statement-breakpoint
CREATE INDEX `access_request_requester_idx` ON `access_request` (`requester`);--> statement-breakpoint
CREATE TABLE `break_glass` (
	`id` text PRIMARY KEY NOT NULL,
	`patient` text NOT NULL,
	`provider` text NOT NULL,
	`categories` integer NOT NULL,
	`reason_hash` text NOT NULL,
	`opened_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`closed` integer NOT NULL,
	`closed_by` text NOT NULL,
	`closed_at` integer NOT NULL,
	`openings` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `break_glass_patient_idx` ON `break_glass` (`patient`);--> statement-breakpoint
CREATE INDEX `break_glass_provider_idx` ON `break_glass` (`provider`);--> statement-breakpoint
CREATE TABLE `access_grant` (
	`id` text PRIMARY KEY NOT NULL,
	`patient` text NOT NULL,
	`grantee` text NOT NULL,
	`categories` integer NOT NULL,
	`purpose` integer NOT NULL,
	`request_id` integer NOT NULL,
	`granted_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked` integer NOT NULL,
	`revoked_at` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `access_grant_patient_idx` ON `access_grant` (`patient`);--> statement-breakpoint
CREATE INDEX `access_grant_grantee_idx` ON `access_grant` (`grantee`);--> statement-breakpoint
CREATE TABLE `patient_policy` (
	`id` text PRIMARY KEY NOT NULL,
	`never_share` integer NOT NULL,
	`banned_kinds` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `committee_epoch` (
	`id` text PRIMARY KEY NOT NULL,
	`epoch` integer NOT NULL,
	`size` integer NOT NULL,
	`threshold` integer NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `committee_epoch_epoch_idx` ON `committee_epoch` (`epoch`);--> statement-breakpoint
CREATE INDEX `committee_epoch_block_idx` ON `committee_epoch` (`block_number`);--> statement-breakpoint
CREATE TABLE `committee_member` (
	`id` text PRIMARY KEY NOT NULL,
	`encryption_key` text NOT NULL,
	`active` integer NOT NULL,
	`added_at_epoch` integer NOT NULL,
	`removed_at_epoch` integer NOT NULL,
	`key_rotations` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `log_root` (
	`id` text PRIMARY KEY NOT NULL,
	`member` text NOT NULL,
	`root` text NOT NULL,
	`count` integer NOT NULL,
	`epoch` integer NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `log_root_member_idx` ON `log_root` (`member`);--> statement-breakpoint
CREATE INDEX `log_root_root_idx` ON `log_root` (`root`);--> statement-breakpoint
CREATE INDEX `log_root_block_idx` ON `log_root` (`block_number`);--> statement-breakpoint
ALTER TABLE `indexer_checkpoint` ADD `organization_registry_address` text;--> statement-breakpoint
ALTER TABLE `indexer_checkpoint` ADD `access_grants_address` text;--> statement-breakpoint
ALTER TABLE `indexer_checkpoint` ADD `release_committee_address` text;