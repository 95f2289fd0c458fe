// The RecordAnchor entities of subgraph/schema.graphql, for PostgreSQL: anchored batches (from
// BatchAnchored) and the record versions their manifests list (ids and hashes only).
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes,
// BigInt as numeric(78, 0).
import { index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';

const bigInt = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' });

export const anchorBatch = pgTable(
  'anchor_batch',
  {
    /** The batch root. */
    id: text('id').primaryKey(),
    batchId: bigInt('batch_id').notNull(),
    root: text('root').notNull(),
    submitter: text('submitter').notNull(),
    leafCount: bigInt('leaf_count').notNull(),
    /** sha2-256 digest of the manifest blob. */
    manifest: text('manifest').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('anchor_batch_submitter_idx').on(t.submitter), index('anchor_batch_block_idx').on(t.blockNumber)],
);

export const recordVersion = pgTable(
  'record_version',
  {
    /** Batch root ++ leaf hash. */
    id: text('id').primaryKey(),
    /** The AnchorBatch id. */
    batch: text('batch').notNull(),
    leaf: text('leaf').notNull(),
    recordId: text('record_id').notNull(),
    version: integer('version').notNull(),
    /** Block of the batch's BatchAnchored event (reorg rollback goes by it). */
    blockNumber: bigInt('block_number').notNull(),
  },
  (t) => [
    index('record_version_batch_idx').on(t.batch),
    index('record_version_leaf_idx').on(t.leaf),
    index('record_version_record_idx').on(t.recordId),
    index('record_version_block_idx').on(t.blockNumber),
  ],
);
