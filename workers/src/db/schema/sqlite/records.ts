// The patient-record vault, for SQLite (its own file, records.sqlite, and its own migrations:
// drizzle.vault.config.ts). Only what the server may see: ids, hashes, CIDs, categories and sealed
// data keys (opaque without the patient's key). Never plaintext, never a key that opens anything.
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** One version of one record. Append-only: a correction is a new row; erasure clears `sealedKey`. */
export const vaultRecordVersion = sqliteTable(
  'vault_record_version',
  {
    /** The version's leaf hash (OpenZeppelin StandardMerkleTree leaf), lowercase hex. */
    leafHash: text('leaf_hash').primaryKey(),
    patient: text('patient').notNull(),
    recordId: text('record_id').notNull(),
    version: integer('version', { mode: 'number' }).notNull(),
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
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
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
export const vaultErasure = sqliteTable('vault_erasure', {
  recordId: text('record_id').primaryKey(),
  patient: text('patient').notNull(),
  erasedAt: integer('erased_at', { mode: 'number' }).notNull(),
  reason: text('reason').notNull(),
});

/** An anchored batch: where its root is on chain. */
export const vaultAnchor = sqliteTable('vault_anchor', {
  root: text('root').primaryKey(),
  chainId: integer('chain_id', { mode: 'number' }).notNull(),
  contract: text('contract').notNull(),
  batchId: text('batch_id').notNull(),
  transactionHash: text('transaction_hash').notNull(),
  blockNumber: integer('block_number', { mode: 'number' }).notNull(),
  leafCount: integer('leaf_count', { mode: 'number' }).notNull(),
  manifestCid: text('manifest_cid').notNull(),
  anchoredAt: integer('anchored_at', { mode: 'number' }).notNull(),
});

/**
 * A record version's data key share for one release-committee member and epoch, sealed to that
 * member (sdk/src/crypto/shares.ts). Erasure deletes them with the patient's sealed keys.
 */
export const vaultShare = sqliteTable(
  'vault_share',
  {
    recordId: text('record_id').notNull(),
    version: integer('version', { mode: 'number' }).notNull(),
    /** The member's address, lowercase. */
    member: text('member').notNull(),
    epoch: integer('epoch', { mode: 'number' }).notNull(),
    /** The sealed share, base64. */
    sealedShare: text('sealed_share').notNull(),
  },
  (t) => [primaryKey({ columns: [t.recordId, t.version, t.member, t.epoch] })],
);

/**
 * A sealed de-identified study extract (docs/decisions/029-extract-upload-and-committee-release.md):
 * its ciphertext is the blob whose CID digest is the extract hash; the row says which study it is
 * for. Uploaded anonymously (no patient, no session): nothing here links it to a patient.
 */
export const vaultExtract = sqliteTable('vault_extract', {
  /** SHA-256 of the ciphertext (what enrollment registers on chain), lowercase hex. */
  extractHash: text('extract_hash').primaryKey(),
  /** Decimal. */
  studyId: text('study_id').notNull(),
  /** The committee epoch its data key was split for. */
  epoch: integer('epoch', { mode: 'number' }).notNull(),
  size: integer('size', { mode: 'number' }).notNull(),
  createdAt: integer('created_at', { mode: 'number' }).notNull(),
});

/** One committee member's sealed share of an extract's data key. */
export const vaultExtractShare = sqliteTable(
  'vault_extract_share',
  {
    extractHash: text('extract_hash').notNull(),
    /** The member's address, lowercase. */
    member: text('member').notNull(),
    /** The sealed share, base64. */
    sealedShare: text('sealed_share').notNull(),
  },
  (t) => [primaryKey({ columns: [t.extractHash, t.member] })],
);

/**
 * A patient account's encryption-key backup (docs/decisions/031): the X25519 secret split t-of-m,
 * one share sealed to each guardian (sdk/src/recovery/backup.ts). One per account; a new backup
 * replaces the previous one with its shares. Ciphertext only: a share opens with its guardian's key.
 */
export const vaultKeyBackup = sqliteTable('vault_key_backup', {
  /** The account id (the address that registered), lowercase. */
  account: text('account').primaryKey(),
  /** The backup's id, lowercase hex (every share's header names it). */
  backupId: text('backup_id').notNull(),
  threshold: integer('threshold', { mode: 'number' }).notNull(),
  /** The account's X25519 public key the backed-up secret belongs to, lowercase hex. */
  publicKey: text('public_key').notNull(),
  createdAt: integer('created_at', { mode: 'number' }).notNull(),
});

/** One guardian's sealed share of an account's key backup. */
export const vaultKeyBackupShare = sqliteTable(
  'vault_key_backup_share',
  {
    account: text('account').notNull(),
    /** The guardian's address, lowercase. */
    guardian: text('guardian').notNull(),
    /** The sealed share, base64. */
    sealedShare: text('sealed_share').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.guardian] })],
);

/**
 * A guardian's backup share released for a completed recovery: re-sealed to that recovery's
 * recovery key (the new wallet's public key), so only the new wallet opens it.
 */
export const vaultReleasedShare = sqliteTable(
  'vault_released_share',
  {
    account: text('account').notNull(),
    /** The completed recovery's nonce. */
    nonce: integer('nonce', { mode: 'number' }).notNull(),
    /** The guardian's address, lowercase. */
    guardian: text('guardian').notNull(),
    /** The re-sealed share, base64. */
    releasedShare: text('released_share').notNull(),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.nonce, t.guardian] })],
);

/**
 * An account's earlier X25519 secrets, each sealed to the account's current key, so what was
 * derived from an old identity (study accounts) stays reachable after a key rotation.
 */
export const vaultKeyring = sqliteTable(
  'vault_keyring',
  {
    account: text('account').notNull(),
    /** The earlier key's public half, lowercase hex. */
    publicKey: text('public_key').notNull(),
    /** Its secret sealed to the current key (sdk sealKey), base64. */
    sealedSecret: text('sealed_secret').notNull(),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.publicKey] })],
);
