CREATE TABLE `notify_delivery` (
	`id` text PRIMARY KEY NOT NULL,
	`patient` text NOT NULL,
	`event_id` text NOT NULL,
	`kind` text NOT NULL,
	`body` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_status` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `notify_delivery_due_idx` ON `notify_delivery` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `notify_delivery_patient_idx` ON `notify_delivery` (`patient`,`created_at`);--> statement-breakpoint
CREATE TABLE `notify_webhook` (
	`patient` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`secret` text NOT NULL,
	`from_block` integer NOT NULL,
	`cursor_block` integer NOT NULL,
	`created_at` integer NOT NULL
);
