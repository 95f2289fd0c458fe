/**
 * A study's protocol and consent text (issue 7: "protocol and consent text, stored content-addressed;
 * their hashes on chain"), browser-safe. Each is plain text; its UTF-8 bytes are stored as one blob
 * in the content-addressed store (decision 008) and their SHA-256 is the study's on-chain
 * `protocolHash` / `consentHash`. As for the study's description (../zk/study-metadata.ts) the hash
 * is also the blob's CID digest, so the chain's 32 bytes name exactly one text and anyone can fetch
 * it and check it. The zero hash means the study registered no such document.
 *
 * The text is stored byte for byte as given (no trimming, no Unicode normalisation): what a patient
 * reads is what was hashed. No health data here: this is what a researcher publishes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, zeroHash, type Hex } from 'viem';
import { cidFromDigest } from '../blobs/cid.ts';
import type { BlobStore } from '../blobs/types.ts';
import { ConsentryError } from '../errors.ts';

/** The largest document stored or read back: a protocol or a consent form, not a dataset. */
export const MAX_STUDY_DOCUMENT_BYTES = 256 * 1024;

/** The on-chain hash of a document the study does not have. */
export const NO_STUDY_DOCUMENT: Hex = zeroHash;

export type StudyDocumentErrorCode =
  /** Not a usable text or hash (empty text, invalid UTF-8, not 32 bytes of hex, the zero hash). */
  | 'STUDY_DOCUMENT_INVALID'
  /** Nothing is stored under the hash. */
  | 'STUDY_DOCUMENT_MISSING'
  /** What is stored does not hash to the hash on chain. */
  | 'STUDY_DOCUMENT_ALTERED'
  /** Over MAX_STUDY_DOCUMENT_BYTES. */
  | 'STUDY_DOCUMENT_TOO_LARGE';

export class StudyDocumentError extends ConsentryError {
  declare readonly code: StudyDocumentErrorCode;
  constructor(code: StudyDocumentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StudyDocumentError';
  }
}

const HASH = /^0x[0-9a-fA-F]{64}$/;
const KIB = MAX_STUDY_DOCUMENT_BYTES / 1024;

/** The UTF-8 bytes that are stored and hashed. */
export function studyDocumentBytes(text: string): Uint8Array {
  if (text.trim() === '') throw new StudyDocumentError('STUDY_DOCUMENT_INVALID', 'A study document needs some text');
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > MAX_STUDY_DOCUMENT_BYTES) {
    throw new StudyDocumentError('STUDY_DOCUMENT_TOO_LARGE', `A study document may have at most ${KIB} KiB of UTF-8 text (this one has ${bytes.length} bytes)`);
  }
  return bytes;
}

/** The on-chain hash of a document: SHA-256 of its UTF-8 bytes. */
export function studyDocumentHash(text: string): Hex {
  return bytesToHex(sha256(studyDocumentBytes(text)));
}

/** The blob store CID under which the document with this on-chain hash lives. */
export function studyDocumentCid(hash: Hex): string {
  if (!HASH.test(hash)) throw new StudyDocumentError('STUDY_DOCUMENT_INVALID', `A study document's hash is 32 bytes (0x + 64 hex characters), not ${String(hash).slice(0, 80)}`);
  if (hash.toLowerCase() === NO_STUDY_DOCUMENT) throw new StudyDocumentError('STUDY_DOCUMENT_INVALID', 'The zero hash names no document: the study registered none');
  return cidFromDigest(hexToBytes(hash));
}

/** Stores the text; returns the hash to put on chain and the CID it is stored under. */
export async function putStudyDocument(blobs: Pick<BlobStore, 'put'>, text: string): Promise<{ hash: Hex; cid: string }> {
  const bytes = studyDocumentBytes(text);
  const cid = await blobs.put(bytes);
  return { hash: bytesToHex(sha256(bytes)), cid };
}

/** Checks stored bytes against the on-chain hash and decodes them. */
export function decodeStudyDocument(bytes: Uint8Array, hash: Hex): string {
  studyDocumentCid(hash); // the hash itself is well formed and not zero
  if (bytes.length > MAX_STUDY_DOCUMENT_BYTES) {
    throw new StudyDocumentError('STUDY_DOCUMENT_TOO_LARGE', `The stored document is larger than ${KIB} KiB (${bytes.length} bytes): it is not read`);
  }
  if (bytesToHex(sha256(bytes)).toLowerCase() !== hash.toLowerCase()) {
    throw new StudyDocumentError('STUDY_DOCUMENT_ALTERED', `The stored document does not match the hash on chain (${hash}): it was altered or is another study's`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new StudyDocumentError('STUDY_DOCUMENT_INVALID', 'The stored document is not UTF-8 text', { cause: err });
  }
}

/**
 * Reads the document with this on-chain hash from the store, checked against the hash (the store
 * checks its CID too). A missing or altered blob, or one over the size bound, is refused with a
 * StudyDocumentError saying which.
 */
export async function readStudyDocument(blobs: Pick<BlobStore, 'get'>, hash: Hex): Promise<string> {
  const cid = studyDocumentCid(hash);
  let bytes: Uint8Array;
  try {
    bytes = await blobs.get(cid);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'BLOB_NOT_FOUND') throw new StudyDocumentError('STUDY_DOCUMENT_MISSING', `No document with hash ${hash} is in the store (CID ${cid})`, { cause: err });
    if (code === 'BLOB_INTEGRITY') {
      throw new StudyDocumentError('STUDY_DOCUMENT_ALTERED', `The document stored under ${cid} does not match the hash on chain (${hash}): it was altered or damaged`, { cause: err });
    }
    throw err;
  }
  return decodeStudyDocument(bytes, hash);
}
