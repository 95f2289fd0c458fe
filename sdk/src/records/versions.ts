/**
 * Record versions as the patient's client writes them (browser-safe): which version a resource
 * becomes (new, changed since the stored one, unchanged, or erased), and the row the vault keeps.
 *
 * Re-imports are recognised by a content tag, HMAC-SHA256 of the canonical JSON under a key derived
 * from the patient's secret key: the server can compare tags but cannot test a guess of the content
 * (a plain hash of a small FHIR resource could be brute-forced).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, type Address, type Hex } from 'viem';
import { leafHash, NO_SUPERSEDES, type RecordLeaf } from '../anchor/leaf.ts';
import type { BlobStore } from '../blobs/types.ts';
import { decryptRecord } from '../crypto/envelope.ts';
import { ConsentryError } from '../errors.ts';
import { canonicalJson } from './canonical.ts';
import type { Category } from './categories.ts';
import type { FhirResource } from './fhir-types.ts';
import { prepareRecordVersion } from './prepare.ts';

const TAG_INFO = new TextEncoder().encode('consentry/content-tag/v1');
const NOTE_INFO = new TextEncoder().encode('consentry/note/v1');
const NOTE_PREFIX = 'n1:';

/** The key content tags are made with, from the patient's X25519 secret key. */
export function contentTagKey(secretKey: Uint8Array): Uint8Array {
  return hkdf(sha256, secretKey, undefined, TAG_INFO, 32);
}

export function contentTag(tagKey: Uint8Array, resource: FhirResource | string): Hex {
  const canonical = typeof resource === 'string' ? resource : canonicalJson(resource);
  return bytesToHex(hmac(sha256, tagKey, new TextEncoder().encode(canonical)));
}

/**
 * Reasons (for a correction, an erasure) can say as much about health as the record itself, so
 * they are stored sealed too: XChaCha20-Poly1305 under a key derived from the patient's secret key.
 */
export function noteKey(secretKey: Uint8Array): Uint8Array {
  return hkdf(sha256, secretKey, undefined, NOTE_INFO, 32);
}

export function sealNote(key: Uint8Array, text: string): string {
  const nonce = randomBytes(24);
  const body = xchacha20poly1305(key, nonce).encrypt(new TextEncoder().encode(text));
  const out = new Uint8Array(24 + body.length);
  out.set(nonce);
  out.set(body, 24);
  return `${NOTE_PREFIX}${toBase64(out)}`;
}

/** The text of a sealed note; a note that does not open is reported, not thrown. */
export function openNote(key: Uint8Array, note: string | null): string | null {
  if (note === null || !note.startsWith(NOTE_PREFIX)) return note;
  try {
    const bytes = fromBase64(note.slice(NOTE_PREFIX.length));
    return new TextDecoder().decode(xchacha20poly1305(key, bytes.subarray(0, 24)).decrypt(bytes.subarray(24)));
  } catch {
    return '(a note this key cannot open)';
  }
}

/** One stored record version: what the vault keeps (no plaintext, no opening key). */
export interface VersionRecord {
  leafHash: Hex;
  patient: string;
  recordId: Hex;
  version: number;
  category: Category;
  resourceType: string;
  cid: string;
  supersedes: Hex;
  reason: string | null;
  /** Base64 of the data key sealed to the patient; null once erased. */
  sealedKey: string | null;
  contentTag: Hex;
  createdAt: number;
}

export type VersionDecision =
  | { kind: 'new'; version: 1; supersedes: Hex }
  | { kind: 'changed'; version: number; supersedes: Hex }
  | { kind: 'unchanged' }
  | { kind: 'erased' };

/** What importing a resource does, given the newest stored version of its record. */
export function decideVersion(
  latest: { version: number; leafHash: string; contentTag: string } | undefined,
  erased: boolean,
  tag: Hex,
): VersionDecision {
  if (erased) return { kind: 'erased' };
  if (!latest) return { kind: 'new', version: 1, supersedes: NO_SUPERSEDES };
  if (latest.contentTag === tag) return { kind: 'unchanged' };
  return { kind: 'changed', version: latest.version + 1, supersedes: latest.leafHash as Hex };
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export interface WriteVersionOptions {
  resource: FhirResource;
  patient: Address;
  seal: (dek: Uint8Array) => Uint8Array;
  blobs: BlobStore;
  tag: Hex;
  version: number;
  supersedes: Hex;
  reason: string | null;
  now?: number;
  /** Already computed by the caller (saves hashing twice on import). */
  canonical?: string;
  recordId?: Hex;
}

/** Encrypts, stores and seals one version and returns the vault row for it. */
export async function writeVersion(opts: WriteVersionOptions): Promise<VersionRecord> {
  const prepared = await prepareRecordVersion({
    resource: opts.resource,
    patient: opts.patient,
    seal: opts.seal,
    blobs: opts.blobs,
    version: opts.version,
    supersedes: opts.supersedes,
    ...(opts.canonical !== undefined ? { canonical: opts.canonical } : {}),
    ...(opts.recordId !== undefined ? { recordId: opts.recordId } : {}),
  });
  return {
    leafHash: leafHash(prepared.leaf),
    patient: opts.patient.toLowerCase(),
    recordId: prepared.recordId,
    version: prepared.version,
    category: prepared.category,
    resourceType: prepared.resourceType,
    cid: prepared.cid,
    supersedes: opts.supersedes,
    reason: opts.reason,
    sealedKey: toBase64(prepared.sealedKey),
    contentTag: opts.tag,
    createdAt: opts.now ?? Date.now(),
  };
}

/** A correction must name a reason and keep the resource's identity (type and id). */
export function checkCorrection(reason: string, current: { resourceType: string }, next: FhirResource): void {
  if (reason.trim().length < 3) throw new ConsentryError('CORRECTION_NO_REASON', 'A correction needs a reason (at least 3 characters)');
  if (next.resourceType !== current.resourceType) {
    throw new ConsentryError('CORRECTION_WRONG_TYPE', `The corrected resource is a ${next.resourceType}; the record is a ${current.resourceType}`);
  }
}

/** The record was erased: its data keys are gone, so no key opens it. */
export class RecordErasedError extends ConsentryError {
  constructor(recordId: string) {
    super('RECORD_ERASED', `Record ${recordId} was erased: its data keys were destroyed and its content cannot be recovered`);
    this.name = 'RecordErasedError';
  }
}

/** Opens one version: the sealed key with the patient's opener, then the ciphertext. */
export function openVersion(
  row: { recordId: string; version: number; category: string; sealedKey: string | null },
  open: (sealed: Uint8Array) => Uint8Array,
  ciphertext: Uint8Array,
): FhirResource {
  if (row.sealedKey === null) throw new RecordErasedError(row.recordId);
  const dek = open(fromBase64(row.sealedKey));
  try {
    const plaintext = decryptRecord({ ciphertext, dek, recordId: row.recordId, version: row.version, category: row.category });
    return JSON.parse(new TextDecoder().decode(plaintext)) as FhirResource;
  } finally {
    dek.fill(0);
  }
}

/** The anchored leaf of a stored version. */
export const leafOfVersion = (v: { patient: string; recordId: string; version: number; category: string; cid: string; supersedes: string }): RecordLeaf => ({
  patient: v.patient as Address,
  recordId: v.recordId as Hex,
  version: v.version,
  category: v.category as Category,
  cid: v.cid,
  supersedes: v.supersedes as Hex,
});
