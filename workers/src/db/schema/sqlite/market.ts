// The research marketplace entities of subgraph/schema.graphql (StudyRegistry, ConsentToken,
// StudyMarket): studies and purchases (mutable), decisions, enrollments, revocations,
// confirmations, refunds and claims (immutable), for SQLite.
// Same conventions as patients.ts: snake_case tables, GraphQL field names, lowercase 0x-hex Bytes.
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { bigInt, bool, int, uint256 } from './columns.ts';

/** A study with its terms, status and market totals (mutable; id = study id, 32 bytes). */
export const study = sqliteTable(
  'study',
  {
    id: text('id').primaryKey(),
    studyId: uint256('study_id').notNull(),
    researcher: text('researcher').notNull(),
    metadataHash: text('metadata_hash').notNull(),
    protocolHash: text('protocol_hash').notNull(),
    consentHash: text('consent_hash').notNull(),
    criteriaHash: uint256('criteria_hash').notNull(),
    categories: uint256('categories').notNull(),
    paymentToken: text('payment_token').notNull(),
    pricePerParticipant: uint256('price_per_participant').notNull(),
    consentDuration: bigInt('consent_duration').notNull(),
    minCohort: int('min_cohort').notNull(),
    maxParticipants: int('max_participants').notNull(),
    status: text('status').notNull(),
    participants: int('participants').notNull(),
    active: int('active').notNull(),
    purchases: int('purchases').notNull(),
    purchased: uint256('purchased').notNull(),
    confirmed: uint256('confirmed').notNull(),
    refunded: uint256('refunded').notNull(),
    claimed: uint256('claimed').notNull(),
    createdAtBlock: bigInt('created_at_block').notNull(),
    createdAtTimestamp: bigInt('created_at_timestamp').notNull(),
    updatedAtBlock: bigInt('updated_at_block').notNull(),
    updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
  },
  (t) => [index('study_researcher_idx').on(t.researcher), index('study_status_idx').on(t.status)],
);

/** StudyDecided or StudySuspended (immutable; id = tx hash ++ log index). */
export const irbDecision = sqliteTable(
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
export const enrollment = sqliteTable(
  'enrollment',
  {
    id: text('id').primaryKey(),
    study: text('study').notNull(),
    participant: text('participant').notNull(),
    nullifier: uint256('nullifier').notNull(),
    extractHash: text('extract_hash').notNull(),
    expiresAt: bigInt('expires_at').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('enrollment_study_idx').on(t.study), index('enrollment_participant_idx').on(t.participant), index('enrollment_block_idx').on(t.blockNumber)],
);

/** ConsentRevoked (immutable; id = tx hash ++ log index). */
export const consentRevocation = sqliteTable(
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
export const purchase = sqliteTable(
  'purchase',
  {
    id: text('id').primaryKey(),
    purchaseId: uint256('purchase_id').notNull(),
    study: text('study').notNull(),
    buyer: text('buyer').notNull(),
    cohort: int('cohort').notNull(),
    pricePerParticipant: uint256('price_per_participant').notNull(),
    amount: uint256('amount').notNull(),
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
export const purchaseConfirmation = sqliteTable(
  'purchase_confirmation',
  {
    id: text('id').primaryKey(),
    purchase: text('purchase').notNull(),
    study: text('study').notNull(),
    releaseHash: text('release_hash').notNull(),
    rewardPerToken: uint256('reward_per_token').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('purchase_confirmation_purchase_idx').on(t.purchase), index('purchase_confirmation_study_idx').on(t.study), index('purchase_confirmation_block_idx').on(t.blockNumber)],
);

/** PurchaseRefunded (immutable; id = tx hash ++ log index). */
export const refund = sqliteTable(
  'refund',
  {
    id: text('id').primaryKey(),
    purchase: text('purchase').notNull(),
    study: text('study').notNull(),
    buyer: text('buyer').notNull(),
    amount: uint256('amount').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('refund_purchase_idx').on(t.purchase), index('refund_study_idx').on(t.study), index('refund_buyer_idx').on(t.buyer), index('refund_block_idx').on(t.blockNumber)],
);

/** Claimed (immutable; id = tx hash ++ log index). */
export const claim = sqliteTable(
  'claim',
  {
    id: text('id').primaryKey(),
    study: text('study').notNull(),
    holder: text('holder').notNull(),
    recipient: text('recipient').notNull(),
    amount: uint256('amount').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
  },
  (t) => [index('claim_study_idx').on(t.study), index('claim_holder_idx').on(t.holder), index('claim_block_idx').on(t.blockNumber)],
);

/** An issuer, current or removed (mutable; id = leaf, 32 bytes). */
export const issuer = sqliteTable('issuer', {
  id: text('id').primaryKey(),
  index: uint256('index').notNull(),
  ax: uint256('ax').notNull(),
  ay: uint256('ay').notNull(),
  leaf: uint256('leaf').notNull(),
  active: bool('active').notNull(),
  root: uint256('root').notNull(),
  updatedAtBlock: bigInt('updated_at_block').notNull(),
  updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
});
