// The ReleaseCommittee entities of subgraph/schema.graphql: members (mutable), epochs and
// access-log roots (immutable), for SQLite.
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes.
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { bigInt, bool, int } from './columns.ts';

/** A member, current or former (mutable; id = the address). */
export const committeeMember = sqliteTable('committee_member', {
  id: text('id').primaryKey(),
  encryptionKey: text('encryption_key').notNull(),
  active: bool('active').notNull(),
  addedAtEpoch: bigInt('added_at_epoch').notNull(),
  removedAtEpoch: bigInt('removed_at_epoch').notNull(),
  keyRotations: int('key_rotations').notNull(),
  updatedAtBlock: bigInt('updated_at_block').notNull(),
  updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
});

/** EpochStarted (immutable; id = tx hash ++ log index). */
export const committeeEpoch = sqliteTable(
  'committee_epoch',
  {
    id: text('id').primaryKey(),
    epoch: bigInt('epoch').notNull(),
    size: int('size').notNull(),
    threshold: int('threshold').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('committee_epoch_epoch_idx').on(t.epoch), index('committee_epoch_block_idx').on(t.blockNumber)],
);

/** LogRootPosted (immutable; id = member ++ root). */
export const logRoot = sqliteTable(
  'log_root',
  {
    id: text('id').primaryKey(),
    member: text('member').notNull(),
    root: text('root').notNull(),
    count: bigInt('count').notNull(),
    epoch: bigInt('epoch').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('log_root_member_idx').on(t.member), index('log_root_root_idx').on(t.root), index('log_root_block_idx').on(t.blockNumber)],
);
