PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_gateway_release` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
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
INSERT INTO `__new_gateway_release`("seq", "id", "requester", "patient", "record_id", "version", "category", "purpose", "nonce", "released_at", "batch_root", "proof") SELECT "seq", "id", "requester", "patient", "record_id", "version", "category", "purpose", "nonce", "released_at", "batch_root", "proof" FROM `gateway_release`;--> statement-breakpoint
DROP TABLE `gateway_release`;--> statement-breakpoint
ALTER TABLE `__new_gateway_release` RENAME TO `gateway_release`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `gateway_release_id_idx` ON `gateway_release` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `gateway_release_nonce_idx` ON `gateway_release` (`requester`,`nonce`);--> statement-breakpoint
CREATE INDEX `gateway_release_batch_idx` ON `gateway_release` (`batch_root`);