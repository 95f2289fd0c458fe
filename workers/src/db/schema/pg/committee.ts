// The ReleaseCommittee entities of subgraph/schema.graphql: members (mutable), epochs and
// access-log roots (immutable), for PostgreSQL.
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes.
import { boolean, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';

const bigInt = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' });

/** A member, current or former (mutable; id = the address). */
export const committeeMember = pgTable('committee_member', {
  id: text('id').primaryKey(),
  encryptionKey: text('encryption_key').notNull(),
  active: boolean('active').notNull(),
  addedAtEpoch: bigInt('added_at_epoch').notNull(),
  removedAtEpoch: bigInt('removed_at_epoch').notNull(),
  keyRotations: integer('key_rotations').notNull(),
  updatedAtBlock: bigInt('updated_at_block').notNull(),
  updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
});

/** EpochStarted (immutable; id = tx hash ++ log index). */
export const committeeEpoch = pgTable(
  'committee_epoch',
  {
    id: text('id').primaryKey(),
    epoch: bigInt('epoch').notNull(),
    size: integer('size').notNull(),
    threshold: integer('threshold').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('committee_epoch_epoch_idx').on(t.epoch), index('committee_epoch_block_idx').on(t.blockNumber)],
);

/** LogRootPosted (immutable; id = member ++ root). */
export const logRoot = pgTable(
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
