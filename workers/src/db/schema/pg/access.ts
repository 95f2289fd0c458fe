// The AccessGrants entities of subgraph/schema.graphql: requests, grants, break-glass windows and
// policies (mutable), and the patient's access history (AccessEvent, immutable), for PostgreSQL.
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes.
import { boolean, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';

const bigInt = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' });

/** A request (mutable; id = the request id as 32 big-endian bytes). */
export const accessRequest = pgTable(
  'access_request',
  {
    id: text('id').primaryKey(),
    requestId: bigInt('request_id').notNull(),
    patient: text('patient').notNull(),
    requester: text('requester').notNull(),
    categories: integer('categories').notNull(),
    purpose: integer('purpose').notNull(),
    duration: bigInt('duration').notNull(),
    status: text('status').notNull(),
    approvedCategories: integer('approved_categories').notNull(),
    expiresAt: bigInt('expires_at').notNull(),
    createdAtBlock: bigInt('created_at_block').notNull(),
    createdAtTimestamp: bigInt('created_at_timestamp').notNull(),
    updatedAtBlock: bigInt('updated_at_block').notNull(),
    updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
  },
  (t) => [index('access_request_patient_idx').on(t.patient), index('access_request_requester_idx').on(t.requester)],
);

/** A grant (mutable; id = patient ++ grantee). The table is access_grant: GRANT is an SQL keyword. */
export const grant = pgTable(
  'access_grant',
  {
    id: text('id').primaryKey(),
    patient: text('patient').notNull(),
    grantee: text('grantee').notNull(),
    categories: integer('categories').notNull(),
    purpose: integer('purpose').notNull(),
    requestId: bigInt('request_id').notNull(),
    grantedAt: bigInt('granted_at').notNull(),
    expiresAt: bigInt('expires_at').notNull(),
    revoked: boolean('revoked').notNull(),
    revokedAt: bigInt('revoked_at').notNull(),
    updatedAtBlock: bigInt('updated_at_block').notNull(),
    updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
  },
  (t) => [index('access_grant_patient_idx').on(t.patient), index('access_grant_grantee_idx').on(t.grantee)],
);

/** One event of a patient's access history (immutable; id = tx hash ++ log index). */
export const accessEvent = pgTable(
  'access_event',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    patient: text('patient').notNull(),
    organization: text('organization').notNull(),
    actor: text('actor').notNull(),
    requestId: bigInt('request_id'),
    categories: integer('categories'),
    purpose: integer('purpose'),
    duration: bigInt('duration'),
    expiresAt: bigInt('expires_at'),
    reasonHash: text('reason_hash'),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
    logIndex: bigInt('log_index').notNull(),
  },
  (t) => [index('access_event_patient_idx').on(t.patient), index('access_event_organization_idx').on(t.organization), index('access_event_block_idx').on(t.blockNumber)],
);

/** A break-glass window (mutable; id = patient ++ provider). */
export const breakGlass = pgTable(
  'break_glass',
  {
    id: text('id').primaryKey(),
    patient: text('patient').notNull(),
    provider: text('provider').notNull(),
    categories: integer('categories').notNull(),
    reasonHash: text('reason_hash').notNull(),
    openedAt: bigInt('opened_at').notNull(),
    expiresAt: bigInt('expires_at').notNull(),
    closed: boolean('closed').notNull(),
    closedBy: text('closed_by').notNull(),
    closedAt: bigInt('closed_at').notNull(),
    openings: integer('openings').notNull(),
    updatedAtBlock: bigInt('updated_at_block').notNull(),
    updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
  },
  (t) => [index('break_glass_patient_idx').on(t.patient), index('break_glass_provider_idx').on(t.provider)],
);

/** A patient's sharing policy (mutable; id = the patient). */
export const patientPolicy = pgTable('patient_policy', {
  id: text('id').primaryKey(),
  neverShare: integer('never_share').notNull(),
  bannedKinds: integer('banned_kinds').notNull(),
  updatedAtBlock: bigInt('updated_at_block').notNull(),
  updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
});
