CREATE TABLE `gateway_release` (
	`id` text PRIMARY KEY NOT NULL,
	`requester` text NOT NULL,
	`patient` text NOT NULL,
	`record_id` text NOT NULL,
	`version` integer NOT NULL,
	`category` text NOT NULL,
	`purpose` integer NOT NULL,
	`nonce` text NOT NULL,
	`released_at` integer NOT NULL,
	`batch_root` text,
	`proof` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `gateway_release_nonce_idx` ON `gateway_release` (`requester`,`nonce`);--> statement-breakpoint
CREATE INDEX `gateway_release_batch_idx` ON `gateway_release` (`batch_root`);