// The OrganizationRegistry entities of subgraph/schema.graphql, for SQLite.
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes.
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { bigInt, bool, int } from './columns.ts';

/** An organisation (mutable; id = its address). */
export const organization = sqliteTable(
  'organization',
  {
    id: text('id').primaryKey(),
    kind: int('kind').notNull(),
    nameHash: text('name_hash').notNull(),
    metadataHash: text('metadata_hash').notNull(),
    accredited: bool('accredited').notNull(),
    accreditedUntil: bigInt('accredited_until').notNull(),
    accreditedBy: text('accredited_by').notNull(),
    suspensionReasonHash: text('suspension_reason_hash').notNull(),
    registeredAtBlock: bigInt('registered_at_block').notNull(),
    registeredAtTimestamp: bigInt('registered_at_timestamp').notNull(),
    updatedAtBlock: bigInt('updated_at_block').notNull(),
    updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
  },
  (t) => [index('organization_kind_idx').on(t.kind)],
);
