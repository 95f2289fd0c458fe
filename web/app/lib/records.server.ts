/**
 * The records API behind the web app's "My records" page. The browser sends only what the vault
 * keeps: ciphertexts (checked against their CIDs), sealed data keys, ids and hashes (each leaf
 * recomputed here). Plaintext and keys never arrive: the browser encrypts and decrypts.
 */
import type { Address } from 'viem';
import { z } from 'zod';
import { leafHash } from '@consentry/sdk/anchor/leaf';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { cidOf } from '@consentry/sdk/blobs/cid';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { CATEGORIES } from '@consentry/sdk/records/categories';
import { fromBase64, leafOfVersion } from '@consentry/sdk/records/versions';
import { Vault, vaultOptionsFor } from '@consentry/workers/src/records/vault.ts';
import { serverConfig } from './config.server.ts';
import { ApiError } from './session.server.ts';

let opened: Promise<{ vault: Vault; blobs: BlobStore }> | undefined;

/** The vault and blob store, opened once per server process from the configuration. */
export function recordStores(): Promise<{ vault: Vault; blobs: BlobStore }> {
  opened ??= (async () => {
    const { config } = serverConfig();
    const vault = await Vault.open(vaultOptionsFor(config));
    const blobs = await blobStoreFromEnv({ ...process.env, DATA_DIR: config.DATA_DIR });
    return { vault, blobs };
  })().catch((err: unknown) => {
    opened = undefined;
    throw err;
  });
  return opened;
}

/** Everything the patient's browser needs to show, decrypt and export their records. */
export async function recordsOf(patient: Address) {
  const { vault } = await recordStores();
  const versions = await vault.versions(patient);
  const [erasures, anchors] = await Promise.all([
    vault.erasures(patient),
    vault.anchors(versions.flatMap((v) => (v.batchRoot ? [v.batchRoot] : []))),
  ]);
  return { versions: versions.map(({ patient: _p, ...v }) => v), erasures: [...erasures.values()], anchors: [...anchors.values()] };
}

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/);
const versionSchema = z.object({
  leafHash: hex32,
  recordId: hex32,
  version: z.number().int().min(1).max(0x7fffffff),
  category: z.enum(CATEGORIES),
  resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/),
  cid: z.string().min(10).max(100),
  supersedes: hex32,
  reason: z.string().max(2000).nullable(),
  sealedKey: z.string().max(200),
  contentTag: hex32,
});
export const uploadSchema = z.object({
  versions: z.array(versionSchema).min(1).max(500),
  blobs: z.array(z.object({ cid: z.string(), data: z.string() })).max(500),
});

/** Checks and stores an upload of new versions; refuses the whole upload on any bad version. */
export async function storeUpload(patient: Address, body: unknown, now = Date.now()): Promise<{ stored: number }> {
  const parsed = uploadSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new ApiError(400, 'BAD_UPLOAD', `The upload is malformed at ${first.path.join('.')}: ${first.message}`);
  }
  const { versions, blobs: sent } = parsed.data;
  const { vault, blobs } = await recordStores();
  const bytesByCid = new Map<string, Uint8Array>();
  for (const b of sent) {
    const bytes = fromBase64(b.data);
    if (cidOf(bytes) !== b.cid) throw new ApiError(400, 'BLOB_MISMATCH', `A ciphertext does not hash to its CID ${b.cid}`);
    bytesByCid.set(b.cid, bytes);
  }
  const erased = await vault.erasures(patient);
  const latest = await vault.latest(patient, versions.map((v) => v.recordId));
  const inUpload = new Map<string, { version: number; leafHash: string }>();
  for (const v of versions) {
    const where = `record ${v.recordId} version ${v.version}`;
    if (leafHash(leafOfVersion({ ...v, patient })) !== v.leafHash) throw new ApiError(400, 'BAD_LEAF', `${where}: its leaf hash does not match its fields`);
    if (fromBase64(v.sealedKey).length !== 105) throw new ApiError(400, 'BAD_SEALED_KEY', `${where}: the sealed key is not 105 bytes`);
    if (!bytesByCid.has(v.cid) && !(await blobs.has(v.cid))) throw new ApiError(400, 'BLOB_MISSING', `${where}: its ciphertext ${v.cid} was not sent`);
    if (erased.has(v.recordId)) throw new ApiError(409, 'RECORD_ERASED', `${where}: the record was erased; it takes no new versions`);
    const previous = inUpload.get(v.recordId) ?? latest.get(v.recordId);
    const expected = previous ? { version: previous.version + 1, supersedes: previous.leafHash } : { version: 1, supersedes: `0x${'0'.repeat(64)}` };
    if (v.version !== expected.version || v.supersedes !== expected.supersedes) {
      throw new ApiError(409, 'VERSION_CONFLICT', `${where}: expected version ${expected.version} superseding ${expected.supersedes.slice(0, 10)}…; reload and try again`);
    }
    inUpload.set(v.recordId, { version: v.version, leafHash: v.leafHash });
  }
  await blobs.putMany([...bytesByCid.values()]);
  const stored = await vault.insertVersions(versions.map((v) => ({ ...v, patient: patient.toLowerCase(), createdAt: now, batchRoot: null, proof: null })));
  return { stored };
}

export async function eraseRecord(patient: Address, recordId: string, reason: unknown, now = Date.now()) {
  if (typeof reason !== 'string' || reason.trim().length < 3 || reason.length > 2000) throw new ApiError(400, 'ERASURE_NO_REASON', 'An erasure needs a reason (at least 3 characters)');
  const { vault } = await recordStores();
  if ((await vault.versions(patient, recordId)).length === 0) throw new ApiError(404, 'RECORD_NOT_FOUND', `No record ${recordId}`);
  await vault.erase({ recordId, patient: patient.toLowerCase(), erasedAt: now, reason: reason.trim() });
  return (await vault.erasures(patient)).get(recordId)!;
}

export async function ciphertextOf(patient: Address, cid: string): Promise<Uint8Array> {
  const { vault, blobs } = await recordStores();
  if (!(await vault.ownsCid(patient, cid))) throw new ApiError(404, 'BLOB_NOT_FOUND', 'No such ciphertext among your records');
  return blobs.get(cid);
}
