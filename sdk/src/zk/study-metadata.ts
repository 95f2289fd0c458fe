/**
 * A study's public description: `{ version, title, summary, criteria }` (browser-safe). Its canonical
 * JSON is stored as a blob in the content-addressed store (decision 008) and its SHA-256 is the
 * study's on-chain `metadataHash`: the hash is also the blob's CID digest, so anyone holding the
 * chain's 32 bytes can fetch the description and check it was not altered. No health data here:
 * this is what a researcher publishes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { z } from 'zod';
import { cidFromDigest } from '../blobs/cid.ts';
import type { BlobStore } from '../blobs/types.ts';
import { ConsentryError } from '../errors.ts';
import { canonicalJson } from '../records/canonical.ts';
import { criteriaSchema, MEASURES, MEASURE_NAMES, type Criteria } from './types.ts';

export const studyMetadataSchema = z
  .object({
    version: z.literal(1),
    title: z.string().trim().min(3, 'the title needs at least 3 characters').max(200, 'the title may have at most 200 characters'),
    summary: z.string().trim().max(4000, 'the summary may have at most 4000 characters'),
    criteria: criteriaSchema,
  })
  .strict();
export type StudyMetadata = z.infer<typeof studyMetadataSchema>;

/** The largest metadata blob read back (a description, not a dataset). */
export const MAX_METADATA_BYTES = 64 * 1024;

export class StudyMetadataError extends ConsentryError {
  constructor(message: string) {
    super('STUDY_METADATA_INVALID', message);
    this.name = 'StudyMetadataError';
  }
}

/** Validates metadata (from a form, a file or the store); each problem in words with its path. */
export function parseStudyMetadata(json: unknown): StudyMetadata {
  const parsed = studyMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'metadata'}: ${i.message}`);
    throw new StudyMetadataError(`The study description is not valid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The canonical bytes (UTF-8 of canonical JSON): the same description always hashes the same. */
export function studyMetadataBytes(metadata: StudyMetadata): Uint8Array {
  return new TextEncoder().encode(canonicalJson(parseStudyMetadata(metadata)));
}

/** The on-chain metadataHash: SHA-256 of the canonical bytes. */
export function studyMetadataHash(metadata: StudyMetadata): Hex {
  return bytesToHex(sha256(studyMetadataBytes(metadata)));
}

/** The blob store CID under which the description with this metadataHash lives. */
export function studyMetadataCid(metadataHash: Hex): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(metadataHash)) throw new StudyMetadataError('A metadata hash is 32 bytes (0x + 64 hex characters)');
  return cidFromDigest(hexToBytes(metadataHash));
}

/** Stores the description; returns the hash to put on chain and the CID it is stored under. */
export async function putStudyMetadata(store: Pick<BlobStore, 'put'>, metadata: StudyMetadata): Promise<{ metadataHash: Hex; cid: string }> {
  const bytes = studyMetadataBytes(metadata);
  const cid = await store.put(bytes);
  return { metadataHash: bytesToHex(sha256(bytes)), cid };
}

/**
 * Decodes stored bytes and checks them against the on-chain hash. Bytes that are valid but not
 * canonical are refused too: the chain's hash names exactly one encoding.
 */
export function decodeStudyMetadata(bytes: Uint8Array, metadataHash: Hex): StudyMetadata {
  if (bytes.length > MAX_METADATA_BYTES) throw new StudyMetadataError(`The study description is larger than ${MAX_METADATA_BYTES / 1024} KiB`);
  if (bytesToHex(sha256(bytes)).toLowerCase() !== metadataHash.toLowerCase()) {
    throw new StudyMetadataError('The study description does not match the hash on chain: it was altered or is another study\'s');
  }
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    json = JSON.parse(text);
  } catch {
    throw new StudyMetadataError('The study description is not JSON');
  }
  const metadata = parseStudyMetadata(json);
  if (canonicalJson(metadata) !== text) throw new StudyMetadataError('The study description is not in canonical form');
  return metadata;
}

/** Reads the description with this on-chain metadataHash from the store, verified. */
export async function readStudyMetadata(store: Pick<BlobStore, 'get'>, metadataHash: Hex): Promise<StudyMetadata> {
  return decodeStudyMetadata(await store.get(studyMetadataCid(metadataHash)), metadataHash);
}

const list = (items: readonly string[], last: 'or' | 'and') =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${last} ${items.at(-1)}`;

/** A code or prefix as a patient reads it: `E11.*` → "E11 (any code starting E11)". */
export function describeCodePattern(pattern: string): string {
  if (!pattern.endsWith('*')) return pattern;
  const prefix = pattern.replace(/\.?\*$/, '');
  return `${prefix} (any code starting ${prefix})`;
}

function describeRange(r: { min?: number; max?: number }, unit: string): string {
  const u = unit ? ` ${unit}` : '';
  if (r.min !== undefined && r.max !== undefined) return `between ${r.min} and ${r.max}${u}`;
  if (r.min !== undefined) return `at least ${r.min}${u}`;
  return `at most ${r.max}${u}`;
}

/**
 * Each criterion in words, in a fixed order, keyed like `checkEligibility`'s failures
 * (`age`, `sex`, `smoker`, a measure's name, `conditions.anyOf`, `conditions.noneOf`, `credentialMaxAgeDays`).
 */
export function describeCriteria(criteria: Criteria): Array<{ criterion: string; text: string }> {
  const out: Array<{ criterion: string; text: string }> = [];
  if (criteria.age) {
    const { min, max } = criteria.age;
    out.push({
      criterion: 'age',
      text: min !== undefined && max !== undefined ? `Aged ${min} to ${max}` : min !== undefined ? `Aged ${min} or older` : `Aged ${max} or younger`,
    });
  }
  if (criteria.sex) out.push({ criterion: 'sex', text: `Sex: ${list(criteria.sex, 'or')}` });
  if (criteria.smoker) out.push({ criterion: 'smoker', text: `Smoking status: ${list(criteria.smoker, 'or')}` });
  for (const name of MEASURE_NAMES) {
    const r = criteria[name];
    if (r) out.push({ criterion: name, text: `${MEASURES[name].label} ${describeRange(r, MEASURES[name].unit === 'score' ? '' : MEASURES[name].unit)}` });
  }
  if (criteria.conditions?.anyOf) {
    const codes = criteria.conditions.anyOf.map(describeCodePattern);
    out.push({ criterion: 'conditions.anyOf', text: codes.length === 1 ? `Diagnosed with ${codes[0]}` : `Diagnosed with at least one of ${list(codes, 'or')}` });
  }
  if (criteria.conditions?.noneOf) {
    out.push({ criterion: 'conditions.noneOf', text: `Not diagnosed with ${list(criteria.conditions.noneOf.map(describeCodePattern), 'or')}` });
  }
  if (criteria.credentialMaxAgeDays !== undefined) {
    const d = criteria.credentialMaxAgeDays;
    out.push({ criterion: 'credentialMaxAgeDays', text: `Credential issued in the last ${d} ${d === 1 ? 'day' : 'days'}` });
  }
  return out;
}
