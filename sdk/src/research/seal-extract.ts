/**
 * Sealing a de-identified extract for a study (browser-safe): the extract, as a FHIR collection
 * Bundle in canonical JSON, is encrypted under a fresh data key with the record envelope
 * (crypto/envelope.ts), bound to the study; the data key is split k-of-n to the release committee
 * (crypto/shares.ts) and then wiped. The SHA-256 of the ciphertext is the extract hash enrollment
 * registers on chain; the committee's shares name it, so a share of one extract cannot be combined
 * into another's key. The buyer recovers the key from k released shares and opens the extract.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Hex } from 'viem';
import { cidFromDigest } from '../blobs/cid.ts';
import { z } from 'zod';
import { decryptRecord, encryptRecord, type RecordContext } from '../crypto/envelope.ts';
import { combineShares, splitDataKey, type Committee, type OpenedShare, type SealedShare, type ShareRecord } from '../crypto/shares.ts';
import { ConsentryError } from '../errors.ts';
import { canonicalJson } from '../records/canonical.ts';
import type { FhirResource } from '../records/fhir-types.ts';

const MAX_UINT256 = (1n << 256n) - 1n;
const EXTRACT_CATEGORY = 'study-extract';

export interface SealExtractOptions {
  /** The release committee as ReleaseCommittee reports it (members' X25519 keys, threshold k, epoch). */
  committee: Committee;
  /** The study the extract is for: bound into the ciphertext and the shares. */
  studyId: bigint;
}

export interface SealedExtract {
  ciphertext: Uint8Array;
  /** SHA-256 of the ciphertext: what enrollment registers on chain. */
  extractHash: Hex;
  /** What the shares are shares of (give it to combineShares / recoverExtractKey). */
  record: ShareRecord;
  /** One sealed share per committee member, in committee order. */
  shares: SealedShare[];
}

/** The extract's ciphertext does not match the hash registered for it. */
export class ExtractHashMismatchError extends ConsentryError {
  constructor(expected: Hex, actual: Hex) {
    super('EXTRACT_HASH_MISMATCH', `The extract ciphertext hashes to ${actual}, not the registered ${expected}`);
    this.name = 'ExtractHashMismatchError';
  }
}

/** The extract decrypted, but is not a FHIR collection Bundle. */
export class ExtractFormatError extends ConsentryError {
  constructor(message: string) {
    super('EXTRACT_FORMAT', message);
    this.name = 'ExtractFormatError';
  }
}

function assertStudyId(studyId: bigint): void {
  if (studyId < 0n || studyId > MAX_UINT256) throw new RangeError(`a study id is a uint256 (got ${studyId})`);
}

/** The envelope context of a study's extracts: a ciphertext made for one study does not open as another's. */
function extractContext(studyId: bigint): RecordContext {
  assertStudyId(studyId);
  return { recordId: `consentry/extract/${studyId}`, version: 1, category: EXTRACT_CATEGORY };
}

/** What the committee shares of an extract are shares of: the study and the extract's hash. */
export function extractShareRecord(studyId: bigint, extractHash: Hex): ShareRecord {
  assertStudyId(studyId);
  return { recordId: `extract:${studyId}:${extractHash.toLowerCase()}`, version: 1 };
}

export function extractHashOf(ciphertext: Uint8Array): Hex {
  return `0x${bytesToHex(sha256(ciphertext))}`;
}

/**
 * The blob store CID of an extract's ciphertext, from the hash registered on chain (a blob's CID is
 * its sha2-256 digest): the buyer fetches the ciphertext by it, and the store re-checks the hash.
 */
export function extractCid(extractHash: Hex): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(extractHash)) throw new RangeError(`an extract hash is 32 bytes of hex (got ${extractHash})`);
  return cidFromDigest(hexToBytes(extractHash.slice(2)));
}

/** The extract as the buyer receives it: a FHIR R4 collection Bundle. */
export function extractBundle(resources: readonly FhirResource[]): FhirResource {
  return { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) };
}

/** Encrypts a de-identified extract and splits its data key to the committee (the key is wiped after). */
export async function sealExtract(extract: { resources: readonly FhirResource[] }, { committee, studyId }: SealExtractOptions): Promise<SealedExtract> {
  const plaintext = new TextEncoder().encode(canonicalJson(extractBundle(extract.resources)));
  const { ciphertext, dek } = encryptRecord({ ...extractContext(studyId), plaintext });
  plaintext.fill(0);
  try {
    const extractHash = extractHashOf(ciphertext);
    const record = extractShareRecord(studyId, extractHash);
    const shares = await splitDataKey(dek, committee, record);
    return { ciphertext, extractHash, record, shares };
  } finally {
    dek.fill(0);
  }
}

export interface RecoverExtractKeyOptions {
  studyId: bigint;
  extractHash: Hex;
  /** k, from the chain. */
  threshold: number;
  /** The committee's current epoch, from the chain. */
  epoch?: number;
  /** Member ids, to name the missing ones when there are too few shares. */
  members?: readonly string[];
}

/** The extract's data key from k or more released (opened) shares; refuses shares of any other extract. */
export async function recoverExtractKey(shares: readonly OpenedShare[], opts: RecoverExtractKeyOptions): Promise<Uint8Array> {
  return combineShares(shares, {
    threshold: opts.threshold,
    record: extractShareRecord(opts.studyId, opts.extractHash),
    ...(opts.epoch !== undefined ? { epoch: opts.epoch } : {}),
    ...(opts.members ? { members: opts.members } : {}),
  });
}

const bundleSchema = z.object({
  resourceType: z.literal('Bundle'),
  type: z.literal('collection'),
  entry: z.array(z.object({ resource: z.looseObject({ resourceType: z.string().min(1) }) })).default([]),
});

/**
 * Opens an extract with its data key (the buyer's side). With `extractHash` (the one registered on
 * chain), first checks the ciphertext is that extract.
 */
export function openExtract(ciphertext: Uint8Array, dataKey: Uint8Array, { studyId, extractHash }: { studyId: bigint; extractHash?: Hex }): { resources: FhirResource[] } {
  if (extractHash !== undefined) {
    const actual = extractHashOf(ciphertext);
    if (actual !== extractHash.toLowerCase()) throw new ExtractHashMismatchError(extractHash, actual);
  }
  const plaintext = decryptRecord({ ...extractContext(studyId), ciphertext, dek: dataKey });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    throw new ExtractFormatError('The extract decrypted but is not JSON');
  }
  const parsed = bundleSchema.safeParse(json);
  if (!parsed.success) throw new ExtractFormatError(`The extract decrypted but is not a FHIR collection Bundle: ${parsed.error.message}`);
  return { resources: parsed.data.entry.map((e) => e.resource as FhirResource) };
}
