// The indexer's own bookkeeping, for PostgreSQL: where it is, which chain it follows, the hashes
// of recent blocks (reorg detection), how to undo recent writes to mutable entities, and the batch
// manifests still to fetch.
import { bigint, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** One row: the chain identity the data belongs to and the last fully indexed block. */
export const indexerCheckpoint = pgTable('indexer_checkpoint', {
  id: text('id').primaryKey(),
  chainId: integer('chain_id').notNull(),
  /** The PatientRegistry address. */
  contractAddress: text('contract_address').notNull(),
  /** The RecordAnchor address; null when the deployment has none. */
  anchorAddress: text('anchor_address'),
  /** The OrganizationRegistry, AccessGrants and ReleaseCommittee addresses; null when not deployed. */
  organizationRegistryAddress: text('organization_registry_address'),
  accessGrantsAddress: text('access_grants_address'),
  releaseCommitteeAddress: text('release_committee_address'),
  startBlock: bigint('start_block', { mode: 'number' }).notNull(),
  startBlockHash: text('start_block_hash').notNull(),
  /** Null until the first page is committed. */
  blockNumber: bigint('block_number', { mode: 'number' }),
  blockHash: text('block_hash'),
  blockTimestamp: bigint('block_timestamp', { mode: 'number' }),
});

/** Hashes of recently indexed blocks (those with events, and every page's last block). */
export const indexerBlock = pgTable('indexer_block', {
  number: bigint('number', { mode: 'number' }).primaryKey(),
  hash: text('hash').notNull(),
  timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
});

/**
 * Undo log: the state of a mutable entity before `block` changed it (null = it did not exist).
 * One row per (block, entity, id); a rollback to block B puts back, per entity, the oldest
 * entry after B.
 */
export const indexerUndo = pgTable(
  'indexer_undo',
  {
    blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id').notNull(),
    previous: text('previous'),
  },
  (t) => [primaryKey({ columns: [t.blockNumber, t.entity, t.entityId] })],
);

/**
 * Batch manifests not fetched yet: one row per AnchorBatch until its RecordVersions are written
 * (or the manifest is found invalid). A missing blob is retried with backoff; the row goes with
 * its batch when a reorg removes the batch.
 */
export const indexerManifest = pgTable(
  'indexer_manifest',
  {
    /** The AnchorBatch id (batch root). */
    batch: text('batch').primaryKey(),
    /** sha2-256 digest of the manifest (its CID is rebuilt from it). */
    manifest: text('manifest').notNull(),
    leafCount: bigint('leaf_count', { mode: 'number' }).notNull(),
    blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
    attempts: integer('attempts').notNull(),
    /** Unix time in ms before which the manifest is not fetched again. */
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('indexer_manifest_due_idx').on(t.nextAttemptAt)],
);
