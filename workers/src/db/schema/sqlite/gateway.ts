// A release gateway's own durable log (one SQLite file per gateway, its own migrations:
// drizzle.gateway.config.ts). Every release is written here before its share leaves the gateway.
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const gatewayRelease = sqliteTable(
  'gateway_release',
  {
    /** The entry's place in this gateway's log: increasing, never reused (the public feed pages on it). */
    seq: integer('seq', { mode: 'number' }).primaryKey({ autoIncrement: true }),
    /** keccak256 of the entry's fields: the Merkle leaf's id. */
    id: text('id').notNull(),
    requester: text('requester').notNull(),
    patient: text('patient').notNull(),
    recordId: text('record_id').notNull(),
    version: integer('version', { mode: 'number' }).notNull(),
    category: text('category').notNull(),
    /** The grant's purpose (HL7 PurposeOfUse, as AccessGrants numbers it), or break-glass. */
    purpose: integer('purpose', { mode: 'number' }).notNull(),
    nonce: text('nonce').notNull(),
    releasedAt: integer('released_at', { mode: 'number' }).notNull(),
    /** Root of the log batch posted on chain (null until posted) and this entry's proof in it. */
    batchRoot: text('batch_root'),
    proof: text('proof'),
  },
  (t) => [uniqueIndex('gateway_release_id_idx').on(t.id), uniqueIndex('gateway_release_nonce_idx').on(t.requester, t.nonce), index('gateway_release_batch_idx').on(t.batchRoot)],
);
