// The patient-record vault, for PostgreSQL (the same database as the indexer, its own migrations:
// drizzle.vault.config.ts). Only what the server may see: ids, hashes, CIDs, categories and sealed
// data keys (opaque without the patient's key). Never plaintext, never a key that opens anything.
import { bigint, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

/** One version of one record. Append-only: a correction is a new row; erasure clears `sealedKey`. */
export const vaultRecordVersion = pgTable(
  'vault_record_version',
  {
    /** The version's leaf hash (OpenZeppelin StandardMerkleTree leaf), lowercase hex. */
    leafHash: text('leaf_hash').primaryKey(),
    patient: text('patient').notNull(),
    recordId: text('record_id').notNull(),
    version: integer('version').notNull(),
    category: text('category').notNull(),
    resourceType: text('resource_type').notNull(),
    cid: text('cid').notNull(),
    /** Leaf hash of the version this one supersedes, or the zero hash. */
    supersedes: text('supersedes').notNull(),
    /** Why this version was written (a correction's reason); null for an import. */
    reason: text('reason'),
    /** The data key sealed to the patient, base64; null once erased (crypto-shredded). */
    sealedKey: text('sealed_key'),
    /** HMAC of the canonical content under a key only the patient can derive: spots re-imports. */
    contentTag: text('content_tag').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    /** Root of the anchored batch holding this version (null while pending). */
    batchRoot: text('batch_root'),
    /** Inclusion proof against batchRoot, a JSON array of hex hashes. */
    proof: text('proof'),
  },
  (t) => [
    uniqueIndex('vault_record_version_record_version_idx').on(t.recordId, t.version),
    index('vault_record_version_patient_idx').on(t.patient, t.recordId),
    index('vault_record_version_batch_idx').on(t.batchRoot),
  ],
);

/** A record erased by crypto-shredding: when and why. Its anchored versions stay verifiable. */
export const vaultErasure = pgTable('vault_erasure', {
  recordId: text('record_id').primaryKey(),
  patient: text('patient').notNull(),
  erasedAt: bigint('erased_at', { mode: 'number' }).notNull(),
  reason: text('reason').notNull(),
});

/** An anchored batch: where its root is on chain. */
export const vaultAnchor = pgTable('vault_anchor', {
  root: text('root').primaryKey(),
  chainId: integer('chain_id').notNull(),
  contract: text('contract').notNull(),
  batchId: text('batch_id').notNull(),
  transactionHash: text('transaction_hash').notNull(),
  blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
  leafCount: integer('leaf_count').notNull(),
  manifestCid: text('manifest_cid').notNull(),
  anchoredAt: bigint('anchored_at', { mode: 'number' }).notNull(),
});

/**
 * A record version's data key share for one release-committee member and epoch, sealed to that
 * member (sdk/src/crypto/shares.ts). Erasure deletes them with the patient's sealed keys.
 */
export const vaultShare = pgTable(
  'vault_share',
  {
    recordId: text('record_id').notNull(),
    version: integer('version').notNull(),
    /** The member's address, lowercase. */
    member: text('member').notNull(),
    epoch: bigint('epoch', { mode: 'number' }).notNull(),
    /** The sealed share, base64. */
    sealedShare: text('sealed_share').notNull(),
  },
  (t) => [primaryKey({ columns: [t.recordId, t.version, t.member, t.epoch] })],
);

/** A sealed de-identified study extract (see the SQLite schema). */
export const vaultExtract = pgTable('vault_extract', {
  extractHash: text('extract_hash').primaryKey(),
  studyId: text('study_id').notNull(),
  epoch: bigint('epoch', { mode: 'number' }).notNull(),
  size: integer('size').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** One committee member's sealed share of an extract's data key. */
export const vaultExtractShare = pgTable(
  'vault_extract_share',
  {
    extractHash: text('extract_hash').notNull(),
    member: text('member').notNull(),
    sealedShare: text('sealed_share').notNull(),
  },
  (t) => [primaryKey({ columns: [t.extractHash, t.member] })],
);

/** An account's encryption-key backup (see the SQLite schema). */
export const vaultKeyBackup = pgTable('vault_key_backup', {
  account: text('account').primaryKey(),
  backupId: text('backup_id').notNull(),
  threshold: integer('threshold').notNull(),
  publicKey: text('public_key').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** One guardian's sealed share of an account's key backup. */
export const vaultKeyBackupShare = pgTable(
  'vault_key_backup_share',
  {
    account: text('account').notNull(),
    guardian: text('guardian').notNull(),
    sealedShare: text('sealed_share').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.guardian] })],
);

/** A guardian's backup share released for a completed recovery (see the SQLite schema). */
export const vaultReleasedShare = pgTable(
  'vault_released_share',
  {
    account: text('account').notNull(),
    nonce: bigint('nonce', { mode: 'number' }).notNull(),
    guardian: text('guardian').notNull(),
    releasedShare: text('released_share').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.nonce, t.guardian] })],
);

/** An account's earlier X25519 secrets sealed to its current key (see the SQLite schema). */
export const vaultKeyring = pgTable(
  'vault_keyring',
  {
    account: text('account').notNull(),
    publicKey: text('public_key').notNull(),
    sealedSecret: text('sealed_secret').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.publicKey] })],
);
