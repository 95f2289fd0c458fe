// The research marketplace entities of subgraph/schema.graphql (StudyRegistry, ConsentToken,
// StudyMarket): studies and purchases (mutable), decisions, enrollments, revocations,
// confirmations, refunds and claims (immutable), for PostgreSQL.
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes.
import { boolean, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';

const bigInt = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' });

/** A study with its terms, status and market totals (mutable; id = study id, 32 bytes). */
export const study = pgTable(
  'study',
  {
    id: text('id').primaryKey(),
    studyId: bigInt('study_id').notNull(),
    researcher: text('researcher').notNull(),
    metadataHash: text('metadata_hash').notNull(),
    protocolHash: text('protocol_hash').notNull(),
    consentHash: text('consent_hash').notNull(),
    criteriaHash: bigInt('criteria_hash').notNull(),
    categories: bigInt('categories').notNull(),
    paymentToken: text('payment_token').notNull(),
    pricePerParticipant: bigInt('price_per_participant').notNull(),
    consentDuration: bigInt('consent_duration').notNull(),
    minCohort: integer('min_cohort').notNull(),
    maxParticipants: integer('max_participants').notNull(),
    status: text('status').notNull(),
    participants: integer('participants').notNull(),
    active: integer('active').notNull(),
    purchases: integer('purchases').notNull(),
    purchased: bigInt('purchased').notNull(),
    confirmed: bigInt('confirmed').notNull(),
    refunded: bigInt('refunded').notNull(),
    claimed: bigInt('claimed').notNull(),
    createdAtBlock: bigInt('created_at_block').notNull(),
    createdAtTimestamp: bigInt('created_at_timestamp').notNull(),
    updatedAtBlock: bigInt('updated_at_block').notNull(),
    updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
  },
  (t) => [index('study_researcher_idx').on(t.researcher), index('study_status_idx').on(t.status)],
);

/** StudyDecided or StudySuspended (immutable; id = tx hash ++ log index). */
export const irbDecision = pgTable(
  'irb_decision',
  {
    id: text('id').primaryKey(),
    study: text('study').notNull(),
    irb: text('irb').notNull(),
    decision: text('decision').notNull(),
    rationaleHash: text('rationale_hash').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('irb_decision_study_idx').on(t.study), index('irb_decision_block_idx').on(t.blockNumber)],
);

/** Enrolled (immutable; id = tx hash ++ log index). */
export const enrollment = pgTable(
  'enrollment',
  {
    id: text('id').primaryKey(),
    study: text('study').notNull(),
    participant: text('participant').notNull(),
    nullifier: bigInt('nullifier').notNull(),
    extractHash: text('extract_hash').notNull(),
    expiresAt: bigInt('expires_at').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('enrollment_study_idx').on(t.study), index('enrollment_participant_idx').on(t.participant), index('enrollment_block_idx').on(t.blockNumber)],
);

/** ConsentRevoked (immutable; id = tx hash ++ log index). */
export const consentRevocation = pgTable(
  'consent_revocation',
  {
    id: text('id').primaryKey(),
    study: text('study').notNull(),
    holder: text('holder').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('consent_revocation_study_idx').on(t.study), index('consent_revocation_holder_idx').on(t.holder), index('consent_revocation_block_idx').on(t.blockNumber)],
);

/** A purchase of a cohort (mutable; id = purchase id, 32 bytes). */
export const purchase = pgTable(
  'purchase',
  {
    id: text('id').primaryKey(),
    purchaseId: bigInt('purchase_id').notNull(),
    study: text('study').notNull(),
    buyer: text('buyer').notNull(),
    cohort: integer('cohort').notNull(),
    pricePerParticipant: bigInt('price_per_participant').notNull(),
    amount: bigInt('amount').notNull(),
    deadline: bigInt('deadline').notNull(),
    status: text('status').notNull(),
    createdAtBlock: bigInt('created_at_block').notNull(),
    createdAtTimestamp: bigInt('created_at_timestamp').notNull(),
    updatedAtBlock: bigInt('updated_at_block').notNull(),
    updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
  },
  (t) => [index('purchase_study_idx').on(t.study), index('purchase_buyer_idx').on(t.buyer), index('purchase_status_idx').on(t.status)],
);

/** PurchaseConfirmed (immutable; id = tx hash ++ log index). */
export const purchaseConfirmation = pgTable(
  'purchase_confirmation',
  {
    id: text('id').primaryKey(),
    purchase: text('purchase').notNull(),
    study: text('study').notNull(),
    releaseHash: text('release_hash').notNull(),
    rewardPerToken: bigInt('reward_per_token').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('purchase_confirmation_purchase_idx').on(t.purchase), index('purchase_confirmation_study_idx').on(t.study), index('purchase_confirmation_block_idx').on(t.blockNumber)],
);

/** PurchaseRefunded (immutable; id = tx hash ++ log index). */
export const refund = pgTable(
  'refund',
  {
    id: text('id').primaryKey(),
    purchase: text('purchase').notNull(),
    study: text('study').notNull(),
    buyer: text('buyer').notNull(),
    amount: bigInt('amount').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('refund_purchase_idx').on(t.purchase), index('refund_study_idx').on(t.study), index('refund_buyer_idx').on(t.buyer), index('refund_block_idx').on(t.blockNumber)],
);

/** Claimed (immutable; id = tx hash ++ log index). */
export const claim = pgTable(
  'claim',
  {
    id: text('id').primaryKey(),
    study: text('study').notNull(),
    holder: text('holder').notNull(),
    recipient: text('recipient').notNull(),
    amount: bigInt('amount').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('claim_study_idx').on(t.study), index('claim_holder_idx').on(t.holder), index('claim_block_idx').on(t.blockNumber)],
);

/** An issuer, current or removed (mutable; id = leaf, 32 bytes). */
export const issuer = pgTable('issuer', {
  id: text('id').primaryKey(),
  index: bigInt('index').notNull(),
  ax: bigInt('ax').notNull(),
  ay: bigInt('ay').notNull(),
  leaf: bigInt('leaf').notNull(),
  active: boolean('active').notNull(),
  root: bigInt('root').notNull(),
  updatedAtBlock: bigInt('updated_at_block').notNull(),
  updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
});
