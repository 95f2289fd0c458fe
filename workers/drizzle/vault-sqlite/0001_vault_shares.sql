CREATE TABLE `vault_share` (
	`record_id` text NOT NULL,
	`version` integer NOT NULL,
	`member` text NOT NULL,
	`epoch` integer NOT NULL,
	`sealed_share` text NOT NULL,
	PRIMARY KEY(`record_id`, `version`, `member`, `epoch`)
);
