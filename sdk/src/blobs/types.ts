import { ConsentryError } from '../errors.ts';

/**
 * A content-addressed store of ciphertext (never plaintext): every blob lives under its CIDv1
 * (raw codec, sha2-256, base32), and every read re-hashes what it got.
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3' | 'ipfs' | 'memory';
  /** Stores `bytes` and returns its CID. Idempotent; atomic (a crash never leaves a partial blob under a CID). */
  put(bytes: Uint8Array): Promise<string>;
  /** Stores many blobs (as put, each atomic) and returns their CIDs in order; stores may batch the work. */
  putMany(blobs: readonly Uint8Array[]): Promise<string[]>;
  /** The bytes under `cid`, verified against it. @throws BlobNotFoundError, BlobIntegrityError */
  get(cid: string): Promise<Uint8Array>;
  has(cid: string): Promise<boolean>;
  /** Removes the blob; removing a missing blob is not an error. */
  delete(cid: string): Promise<void>;
}

export class BlobNotFoundError extends ConsentryError {
  constructor(cid: string) {
    super('BLOB_NOT_FOUND', `No blob ${cid} in the store`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobIntegrityError extends ConsentryError {
  constructor(cid: string, actual: string) {
    super('BLOB_INTEGRITY', `The blob stored as ${cid} does not hash to it (its bytes hash to ${actual}): it was altered or damaged`);
    this.name = 'BlobIntegrityError';
  }
}

export class InvalidCidError extends ConsentryError {
  constructor(cid: string, why: string) {
    super('BLOB_BAD_CID', `Not a Consentry blob CID (${why}): ${cid.slice(0, 80)}`);
    this.name = 'InvalidCidError';
  }
}
