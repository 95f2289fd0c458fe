-- uint256 columns are stored zero-padded to 78 digits from now on (columns.ts: text order = numeric order).
-- Pads the values written before: the same number, wider text.
UPDATE `study` SET `study_id` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `study_id`, -78, 78) WHERE length(`study_id`) < 78;
--> statement-breakpoint
UPDATE `study` SET `criteria_hash` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `criteria_hash`, -78, 78) WHERE length(`criteria_hash`) < 78;
--> statement-breakpoint
UPDATE `study` SET `categories` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `categories`, -78, 78) WHERE length(`categories`) < 78;
--> statement-breakpoint
UPDATE `study` SET `price_per_participant` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `price_per_participant`, -78, 78) WHERE length(`price_per_participant`) < 78;
--> statement-breakpoint
UPDATE `study` SET `purchased` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `purchased`, -78, 78) WHERE length(`purchased`) < 78;
--> statement-breakpoint
UPDATE `study` SET `confirmed` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `confirmed`, -78, 78) WHERE length(`confirmed`) < 78;
--> statement-breakpoint
UPDATE `study` SET `refunded` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `refunded`, -78, 78) WHERE length(`refunded`) < 78;
--> statement-breakpoint
UPDATE `study` SET `claimed` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `claimed`, -78, 78) WHERE length(`claimed`) < 78;
--> statement-breakpoint
UPDATE `enrollment` SET `nullifier` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `nullifier`, -78, 78) WHERE length(`nullifier`) < 78;
--> statement-breakpoint
UPDATE `purchase` SET `purchase_id` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `purchase_id`, -78, 78) WHERE length(`purchase_id`) < 78;
--> statement-breakpoint
UPDATE `purchase` SET `price_per_participant` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `price_per_participant`, -78, 78) WHERE length(`price_per_participant`) < 78;
--> statement-breakpoint
UPDATE `purchase` SET `amount` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `amount`, -78, 78) WHERE length(`amount`) < 78;
--> statement-breakpoint
UPDATE `purchase_confirmation` SET `reward_per_token` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `reward_per_token`, -78, 78) WHERE length(`reward_per_token`) < 78;
--> statement-breakpoint
UPDATE `refund` SET `amount` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `amount`, -78, 78) WHERE length(`amount`) < 78;
--> statement-breakpoint
UPDATE `claim` SET `amount` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `amount`, -78, 78) WHERE length(`amount`) < 78;
--> statement-breakpoint
UPDATE `issuer` SET `index` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `index`, -78, 78) WHERE length(`index`) < 78;
--> statement-breakpoint
UPDATE `issuer` SET `ax` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `ax`, -78, 78) WHERE length(`ax`) < 78;
--> statement-breakpoint
UPDATE `issuer` SET `ay` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `ay`, -78, 78) WHERE length(`ay`) < 78;
--> statement-breakpoint
UPDATE `issuer` SET `leaf` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `leaf`, -78, 78) WHERE length(`leaf`) < 78;
--> statement-breakpoint
UPDATE `issuer` SET `root` = substr('000000000000000000000000000000000000000000000000000000000000000000000000000000' || `root`, -78, 78) WHERE length(`root`) < 78;
