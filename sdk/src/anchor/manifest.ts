/**
 * Batch manifests (browser-safe): the blob that says which record versions an anchored batch
 * holds, so an indexer can list them without the records. Ids and hashes only, never the patient,
 * the category or the ciphertext CID (see docs/decisions/010-anchor-manifests.md):
 *
 *   {"format":"consentry/anchor-batch/v1","root":"0x…","leaves":[{"leaf":"0x…","recordId":"0x…","version":1},…]}
 *
 * The bytes are deterministic: keys in that order, no whitespace, lowercase hex, leaves in batch
 * order. A manifest is valid only in exactly that form, so the same batch always has the same
 * CID and every reader (sdk, embedded indexer, subgraph mapping) accepts the same manifests.
 * RecordAnchor.anchor takes the sha2-256 digest of the bytes; the CID is rebuilt from it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { z } from 'zod';
import { cidDigest, cidFromDigest } from '../blobs/cid.ts';
import { ConsentryError } from '../errors.ts';
import type { Batch, RecordLeaf } from './leaf.ts';

export const MANIFEST_FORMAT = 'consentry/anchor-batch/v1';
/** Versions are GraphQL `Int`s in the index, so at most 2^31 - 1 (leaves allow uint32). */
export const MAX_MANIFEST_VERSION = 0x7fff_ffff;

export interface ManifestLeaf {
  /** The leaf hash, as in the Merkle tree. */
  leaf: Hex;
  recordId: Hex;
  version: number;
}

export interface BatchManifest {
  format: typeof MANIFEST_FORMAT;
  root: Hex;
  leaves: ManifestLeaf[];
}

export interface BuiltManifest {
  /** The blob to store. */
  bytes: Uint8Array;
  json: BatchManifest;
  /** sha2-256 of `bytes`: what RecordAnchor.anchor takes. */
  digest: Hex;
  /** CIDv1 (raw, sha2-256) of `bytes`: where the blob store keeps it. */
  cid: string;
}

export class ManifestError extends ConsentryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MANIFEST_INVALID', message, options);
    this.name = 'ManifestError';
  }
}

const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'must be 32 bytes of lowercase 0x-hex');
const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  root: hash32,
  leaves: z
    .array(
      z.strictObject({
        leaf: hash32,
        recordId: hash32,
        version: z.number().int().min(1).max(MAX_MANIFEST_VERSION),
      }),
    )
    .min(1, 'a batch has at least one leaf'),
});

/** The canonical bytes of a manifest (key order fixed, no whitespace). */
function serialize(m: BatchManifest): Uint8Array {
  const leaves = m.leaves.map((l) => `{"leaf":"${l.leaf}","recordId":"${l.recordId}","version":${l.version}}`);
  return new TextEncoder().encode(`{"format":"${m.format}","root":"${m.root}","leaves":[${leaves.join(',')}]}`);
}

function check(m: BatchManifest): void {
  const seen = new Set<string>();
  for (const [i, l] of m.leaves.entries()) {
    if (seen.has(l.leaf)) throw new ManifestError(`leaves[${i}] repeats leaf ${l.leaf}: a leaf appears once per batch`);
    seen.add(l.leaf);
  }
}

/** sha2-256 digest of manifest bytes, as RecordAnchor.anchor takes it. */
export function manifestDigest(bytes: Uint8Array): Hex {
  return bytesToHex(sha256(bytes));
}

/** The manifest's CID from the digest in a BatchAnchored event. */
export function manifestCid(digest: Hex): string {
  return cidFromDigest(hexToBytes(digest));
}

/** The digest inside a manifest CID (the inverse of manifestCid). */
export function manifestDigestOfCid(cid: string): Hex {
  return bytesToHex(cidDigest(cid));
}

/** Builds the manifest of a batch: `leaves` in batch order and the batch buildBatch made of them. */
export function buildBatchManifest(leaves: readonly RecordLeaf[], batch: Pick<Batch, 'root' | 'leafHashes'>): BuiltManifest {
  if (leaves.length === 0 || leaves.length !== batch.leafHashes.length) {
    throw new ManifestError(`A manifest needs the batch's leaves and their hashes (${leaves.length} leaves, ${batch.leafHashes.length} hashes)`);
  }
  const json: BatchManifest = {
    format: MANIFEST_FORMAT,
    root: batch.root.toLowerCase() as Hex,
    leaves: leaves.map((l, i) => ({
      leaf: batch.leafHashes[i]!.toLowerCase() as Hex,
      recordId: l.recordId.toLowerCase() as Hex,
      version: l.version,
    })),
  };
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new ManifestError(`Cannot build a manifest: ${describe(parsed.error)}`);
  check(json);
  const bytes = serialize(json);
  const digest = manifestDigest(bytes);
  return { bytes, json, digest, cid: manifestCid(digest) };
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(manifest)'}: ${i.message}`).join('; ');
}

/**
 * Parses manifest bytes; throws ManifestError unless they are a valid manifest in its canonical
 * form. `expect` adds the checks an indexer makes against the BatchAnchored event.
 */
export function parseBatchManifest(bytes: Uint8Array, expect: { root?: Hex; leafCount?: number } = {}): BatchManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new ManifestError('A batch manifest must be UTF-8 JSON', { cause });
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) throw new ManifestError(`Not a batch manifest (${MANIFEST_FORMAT}): ${describe(parsed.error)}`);
  const m = parsed.data as BatchManifest;
  check(m);
  const canonical = serialize(m);
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) {
    throw new ManifestError('The batch manifest is not in its canonical form (key order, no whitespace, plain integers)');
  }
  if (expect.root !== undefined && m.root !== expect.root.toLowerCase()) {
    throw new ManifestError(`The manifest is for root ${m.root}, not ${expect.root.toLowerCase()}`);
  }
  if (expect.leafCount !== undefined && m.leaves.length !== expect.leafCount) {
    throw new ManifestError(`The manifest lists ${m.leaves.length} leaves, but the batch has ${expect.leafCount}`);
  }
  return m;
}
