// Releases of data-key shares, followed from the committee gateways' public logs (GET /log), for
// PostgreSQL. Off chain, so indexer-only (not in the subgraph): never dropped by a re-index or rolled
// back by a reorg (see workers/src/indexer/releases.ts and docs/decisions/015).
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes.
import { bigint, customType, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';

const bigInt = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' });

/** A list of Bytes (a Merkle proof), stored as JSON text (as on SQLite). */
const bytesList = customType<{ data: string[]; driverData: string }>({
  dataType: () => 'text',
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => JSON.parse(value) as string[],
});

/** One entry of a gateway's release log (mutable: root and proof arrive later; id = member ++ seq as uint64). */
export const release = pgTable(
  'release',
  {
    id: text('id').primaryKey(),
    member: text('member').notNull(),
    seq: bigInt('seq').notNull(),
    entryId: text('entry_id').notNull(),
    requester: text('requester').notNull(),
    patient: text('patient').notNull(),
    recordId: text('record_id').notNull(),
    version: integer('version').notNull(),
    category: text('category').notNull(),
    purpose: integer('purpose').notNull(),
    releasedAt: bigInt('released_at').notNull(),
    batchRoot: text('batch_root'),
    proof: bytesList('proof'),
  },
  (t) => [
    index('release_patient_idx').on(t.patient, t.releasedAt),
    index('release_requester_idx').on(t.requester, t.releasedAt),
    index('release_member_seq_idx').on(t.member, t.seq),
    index('release_batch_root_idx').on(t.batchRoot),
  ],
);

/** Where the follower is in each gateway's feed (id = the gateway URL as configured). */
export const releaseCursor = pgTable('release_cursor', {
  gateway: text('gateway').primaryKey(),
  member: text('member').notNull(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  /** Unix ms of the last successful read. */
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
