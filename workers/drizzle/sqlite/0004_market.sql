CREATE TABLE `claim` (
	`id` text PRIMARY KEY NOT NULL,
	`study` text NOT NULL,
	`holder` text NOT NULL,
	`recipient` text NOT NULL,
	`amount` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `claim_study_idx` ON `claim` (`study`);--> statement-breakpoint
CREATE INDEX `claim_holder_idx` ON `claim` (`holder`);--> statement-breakpoint
CREATE INDEX `claim_block_idx` ON `claim` (`block_number`);--> statement-breakpoint
CREATE TABLE `consent_revocation` (
	`id` text PRIMARY KEY NOT NULL,
	`study` text NOT NULL,
	`holder` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `consent_revocation_study_idx` ON `consent_revocation` (`study`);--> statement-breakpoint
CREATE INDEX `consent_revocation_holder_idx` ON `consent_revocation` (`holder`);--> statement-breakpoint
CREATE INDEX `consent_revocation_block_idx` ON `consent_revocation` (`block_number`);--> statement-breakpoint
CREATE TABLE `enrollment` (
	`id` text PRIMARY KEY NOT NULL,
	`study` text NOT NULL,
	`participant` text NOT NULL,
	`nullifier` text NOT NULL,
	`extract_hash` text NOT NULL,
	`expires_at` integer NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `enrollment_study_idx` ON `enrollment` (`study`);--> statement-breakpoint
CREATE INDEX `enrollment_participant_idx` ON `enrollment` (`participant`);--> statement-breakpoint
CREATE INDEX `enrollment_block_idx` ON `enrollment` (`block_number`);--> statement-breakpoint
CREATE TABLE `irb_decision` (
	`id` text PRIMARY KEY NOT NULL,
	`study` text NOT NULL,
	`irb` text NOT NULL,
	`decision` text NOT NULL,
	`rationale_hash` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `irb_decision_study_idx` ON `irb_decision` (`study`);--> statement-breakpoint
CREATE INDEX `irb_decision_block_idx` ON `irb_decision` (`block_number`);--> statement-breakpoint
CREATE TABLE `issuer` (
	`id` text PRIMARY KEY NOT NULL,
	`index` text NOT NULL,
	`ax` text NOT NULL,
	`ay` text NOT NULL,
	`leaf` text NOT NULL,
	`active` integer NOT NULL,
	`root` text NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `purchase` (
	`id` text PRIMARY KEY NOT NULL,
	`purchase_id` text NOT NULL,
	`study` text NOT NULL,
	`buyer` text NOT NULL,
	`cohort` integer NOT NULL,
	`price_per_participant` text NOT NULL,
	`amount` text NOT NULL,
	`deadline` integer NOT NULL,
	`status` text NOT NULL,
	`created_at_block` integer NOT NULL,
	`created_at_timestamp` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `purchase_study_idx` ON `purchase` (`study`);--> statement-breakpoint
CREATE INDEX `purchase_buyer_idx` ON `purchase` (`buyer`);--> statement-breakpoint
CREATE INDEX `purchase_status_idx` ON `purchase` (`status`);--> statement-breakpoint
CREATE TABLE `purchase_confirmation` (
	`id` text PRIMARY KEY NOT NULL,
	`purchase` text NOT NULL,
	`study` text NOT NULL,
	`release_hash` text NOT NULL,
	`reward_per_token` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `purchase_confirmation_purchase_idx` ON `purchase_confirmation` (`purchase`);--> statement-breakpoint
CREATE INDEX `purchase_confirmation_study_idx` ON `purchase_confirmation` (`study`);--> statement-breakpoint
CREATE INDEX `purchase_confirmation_block_idx` ON `purchase_confirmation` (`block_number`);--> statement-breakpoint
CREATE TABLE `refund` (
	`id` text PRIMARY KEY NOT NULL,
	`purchase` text NOT NULL,
	`study` text NOT NULL,
	`buyer` text NOT NULL,
	`amount` text NOT NULL,
	`block_number` integer NOT NULL,
	`block_timestamp` integer NOT NULL,
	`transaction_hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `refund_purchase_idx` ON `refund` (`purchase`);--> statement-breakpoint
CREATE INDEX `refund_study_idx` ON `refund` (`study`);--> statement-breakpoint
CREATE INDEX `refund_buyer_idx` ON `refund` (`buyer`);--> statement-breakpoint
CREATE INDEX `refund_block_idx` ON `refund` (`block_number`);--> statement-breakpoint
CREATE TABLE `study` (
	`id` text PRIMARY KEY NOT NULL,
	`study_id` text NOT NULL,
	`researcher` text NOT NULL,
	`metadata_hash` text NOT NULL,
	`protocol_hash` text NOT NULL,
	`consent_hash` text NOT NULL,
	`criteria_hash` text NOT NULL,
	`categories` text NOT NULL,
	`payment_token` text NOT NULL,
	`price_per_participant` text NOT NULL,
	`consent_duration` integer NOT NULL,
	`min_cohort` integer NOT NULL,
	`max_participants` integer NOT NULL,
	`status` text NOT NULL,
	`participants` integer NOT NULL,
	`active` integer NOT NULL,
	`purchases` integer NOT NULL,
	`purchased` text NOT NULL,
	`confirmed` text NOT NULL,
	`refunded` text NOT NULL,
	`claimed` text NOT NULL,
	`created_at_block` integer NOT NULL,
	`created_at_timestamp` integer NOT NULL,
	`updated_at_block` integer NOT NULL,
	`updated_at_timestamp` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `study_researcher_idx` ON `study` (`researcher`);--> statement-breakpoint
CREATE INDEX `study_status_idx` ON `study` (`status`);