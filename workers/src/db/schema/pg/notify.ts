// The notifier's own tables, for PostgreSQL (own migrations and journal, drizzle.notify.config.ts,
// next to the indexer's tables in the same database). Kept apart from the indexer's tables so a
// re-index never drops a patient's webhook or the record of what was delivered.
import { bigint, index, integer, pgTable, text } from 'drizzle-orm/pg-core';

const ms = (name: string) => bigint(name, { mode: 'number' });

/** One webhook per patient (lowercase address). The secret signs every delivery (HMAC-SHA256). */
export const notifyWebhook = pgTable('notify_webhook', {
  patient: text('patient').primaryKey(),
  url: text('url').notNull(),
  secret: text('secret').notNull(),
  /** Events of later blocks are delivered (the chain head when the webhook was set). */
  fromBlock: ms('from_block').notNull(),
  /** Events up to this block have been queued. */
  cursorBlock: ms('cursor_block').notNull(),
  /** Unix ms. */
  createdAt: ms('created_at').notNull(),
});

/** One delivery per (patient, AccessEvent): queued once, retried with backoff, then delivered or failed. */
export const notifyDelivery = pgTable(
  'notify_delivery',
  {
    /** patient ++ ':' ++ AccessEvent id. */
    id: text('id').primaryKey(),
    patient: text('patient').notNull(),
    eventId: text('event_id').notNull(),
    kind: text('kind').notNull(),
    /** The JSON sent (the same bytes every attempt, so the signature is over what was queued). */
    body: text('body').notNull(),
    /** pending | delivered | failed | cancelled */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: ms('created_at').notNull(),
    deliveredAt: ms('delivered_at'),
  },
  (t) => [index('notify_delivery_due_idx').on(t.status, t.nextAttemptAt), index('notify_delivery_patient_idx').on(t.patient, t.createdAt)],
);
