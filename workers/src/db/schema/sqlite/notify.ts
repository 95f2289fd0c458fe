// The notifier's own tables, for SQLite (its own file, DATA_DIR/notify.sqlite, and its own
// migrations: drizzle.notify.config.ts). Kept apart from the indexer's tables so a re-index never
// drops a patient's webhook or the record of what was delivered.
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { int } from './columns.ts';

/** One webhook per patient (lowercase address). The secret signs every delivery (HMAC-SHA256). */
export const notifyWebhook = sqliteTable('notify_webhook', {
  patient: text('patient').primaryKey(),
  url: text('url').notNull(),
  secret: text('secret').notNull(),
  /** Events of later blocks are delivered (the chain head when the webhook was set). */
  fromBlock: int('from_block').notNull(),
  /** Events up to this block have been queued. */
  cursorBlock: int('cursor_block').notNull(),
  /** Unix ms. */
  createdAt: int('created_at').notNull(),
});

/** One delivery per (patient, AccessEvent): queued once, retried with backoff, then delivered or failed. */
export const notifyDelivery = sqliteTable(
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
    attempts: int('attempts').notNull(),
    nextAttemptAt: int('next_attempt_at').notNull(),
    lastStatus: int('last_status'),
    lastError: text('last_error'),
    createdAt: int('created_at').notNull(),
    deliveredAt: int('delivered_at'),
  },
  (t) => [index('notify_delivery_due_idx').on(t.status, t.nextAttemptAt), index('notify_delivery_patient_idx').on(t.patient, t.createdAt)],
);
