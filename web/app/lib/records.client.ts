/**
 * The patient's records in the browser. Everything that touches plaintext or keys happens here:
 * FHIR files are parsed and validated in the page, encrypted under fresh data keys, sealed to the
 * patient's key, and only then sent (ciphertext, sealed keys, ids and hashes). Reading fetches
 * ciphertext and decrypts it here. The server never receives plaintext or a key.
 */
import { zipSync } from 'fflate';
import { createPublicClient, http, type Address, type Hex } from 'viem';
import type { Config } from 'wagmi';
import { signTypedData } from 'wagmi/actions';
import { recordIdFor } from '@consentry/sdk/anchor/leaf';
import { createCollectingStore } from '@consentry/sdk/blobs/collect';
import { readCommittee } from '@consentry/sdk/access/release';
import { createKeyOpener, createKeySealer } from '@consentry/sdk/crypto/envelope';
import { createDataKeySplitter, type Committee } from '@consentry/sdk/crypto/shares';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';
import { canonicalJson } from '@consentry/sdk/records/canonical';
import { buildExport, type ExportAnchor, type ExportVersion } from '@consentry/sdk/records/export-format';
import { fhirDefinitionsIndexed, indexFhirDefinitions, parseFhirInput, type FhirResource } from '@consentry/sdk/records/fhir-input';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { identityRootOf } from './keyring.ts';
import {
  checkCorrection,
  contentTag,
  contentTagKey,
  decideVersion,
  noteKey,
  openNote,
  openVersion,
  sealNote,
  fromBase64,
  toBase64,
  writeVersion,
  type VersionRecord,
} from '@consentry/sdk/records/versions';

export interface ApiVersion extends ExportVersion {
  contentTag: string;
}
export interface ApiErasure {
  recordId: string;
  erasedAt: number;
  reason: string;
}
export interface RecordsData {
  versions: ApiVersion[];
  erasures: ApiErasure[];
  anchors: ExportAnchor[];
}

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  const body = (await res.json().catch(() => null)) as (T & { error?: { code: string; message: string } }) | null;
  if (!res.ok || !body) throw new ApiCallError(body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `The server answered ${res.status}`);
  return body;
}

/**
 * Signs in (a free signed message) unless this browser already has a session for `wallet`. The session
 * names the account the wallet controls (itself, or the account a recovery moved to it); with
 * `expectedAccount`, a session that names another account (one made before a recovery completed) is
 * replaced by a fresh sign-in.
 */
export async function ensureSession(config: Config, wallet: Address, chainId: number, expectedAccount?: Address): Promise<void> {
  const who = await fetch('/api/session', { credentials: 'same-origin' });
  if (who.ok) {
    const body = (await who.json()) as { address: string; account?: string; wallet?: string };
    const sessionWallet = body.wallet ?? body.address;
    const sessionAccount = body.account ?? body.address;
    const walletOk = sessionWallet.toLowerCase() === wallet.toLowerCase();
    if (walletOk && (!expectedAccount || sessionAccount.toLowerCase() === expectedAccount.toLowerCase())) return;
  }
  const issuedAt = Math.floor(Date.now() / 1000);
  const signature = await signTypedData(config, { account: wallet, ...sessionTypedData(chainId, wallet, issuedAt) });
  await api('/api/session', { method: 'POST', body: JSON.stringify({ address: wallet, issuedAt, signature }) });
}

let definitions: Promise<void> | undefined;
/** The FHIR R4 definitions the validator needs (~4.5 MB, fetched once per page). */
export function loadDefinitions(): Promise<void> {
  if (fhirDefinitionsIndexed()) return Promise.resolve();
  definitions ??= fetch('/fhir-r4-definitions.json')
    .then((r) => {
      if (!r.ok) throw new Error(`The FHIR definitions could not be loaded (${r.status})`);
      return r.json() as Promise<unknown[]>;
    })
    .then((bundles) => indexFhirDefinitions(bundles))
    .catch((err: unknown) => {
      definitions = undefined;
      throw err;
    });
  return definitions;
}

export const fetchRecords = (): Promise<RecordsData> => api<RecordsData>('/api/records');

const ciphertexts = new Map<string, Promise<Uint8Array>>();
export function fetchCiphertext(cid: string): Promise<Uint8Array> {
  let p = ciphertexts.get(cid);
  if (!p) {
    p = fetch(`/api/blobs/${encodeURIComponent(cid)}`, { credentials: 'same-origin' }).then(async (r) => {
      if (!r.ok) throw new ApiCallError(`HTTP_${r.status}`, `The ciphertext ${cid.slice(0, 12)}… could not be fetched (${r.status})`);
      return new Uint8Array(await r.arrayBuffer());
    });
    p.catch(() => ciphertexts.delete(cid));
    ciphertexts.set(cid, p);
  }
  return p;
}

const openers = new WeakMap<EncryptionKeyPair, (sealed: Uint8Array) => Uint8Array>();
/** Decrypts one version in this browser. */
export async function decryptVersion(v: ApiVersion, keys: EncryptionKeyPair): Promise<FhirResource> {
  let open = openers.get(keys);
  if (!open) openers.set(keys, (open = createKeyOpener(keys.secretKey)));
  return openVersion(v, open, await fetchCiphertext(v.cid));
}

export interface ImportProgress {
  stage: 'loading-definitions' | 'validating' | 'encrypting' | 'done';
  done: number;
  total: number;
  stored: number;
  unchanged: number;
  errors: Array<{ location: string; reason: string }>;
}

const UPLOAD_CHUNK = 100;

/** Parses, validates, encrypts and uploads FHIR files; valid resources go in even if others fail. */
export async function importFiles(
  files: ReadonlyArray<{ name: string; text: () => Promise<string> }>,
  patient: Address,
  keys: EncryptionKeyPair,
  report: (p: ImportProgress) => void,
): Promise<ImportProgress> {
  const progress: ImportProgress = { stage: 'loading-definitions', done: 0, total: 0, stored: 0, unchanged: 0, errors: [] };
  report({ ...progress });
  await loadDefinitions();
  progress.stage = 'validating';
  const resources: FhirResource[] = [];
  for (const f of files) {
    const parsed = parseFhirInput(await f.text(), f.name);
    resources.push(...parsed.resources.map((r) => r.resource));
    progress.errors.push(...parsed.errors);
    report({ ...progress, errors: [...progress.errors] });
  }
  progress.stage = 'encrypting';
  progress.total = resources.length;
  report({ ...progress, errors: [...progress.errors] });

  const existing = await fetchRecords();
  const latest = new Map<string, ApiVersion>();
  for (const v of existing.versions) if ((latest.get(v.recordId)?.version ?? 0) < v.version) latest.set(v.recordId, v);
  const erased = new Set(existing.erasures.map((e) => e.recordId));
  const seal = createKeySealer(keys.publicKey);
  const tagKey = contentTagKey(identityRootOf(keys));

  for (let first = 0; first < resources.length; first += UPLOAD_CHUNK) {
    const chunk = resources.slice(first, first + UPLOAD_CHUNK);
    const collected = createCollectingStore();
    const versions: VersionRecord[] = [];
    for (const resource of chunk) {
      const recordId = recordIdFor(patient, resource.resourceType, String(resource.id));
      const canonical = canonicalJson(resource);
      const tag = contentTag(tagKey, canonical);
      const decision = decideVersion(latest.get(recordId), erased.has(recordId), tag);
      if (decision.kind === 'unchanged' || decision.kind === 'erased' || versions.some((v) => v.recordId === recordId)) {
        progress.unchanged++;
        continue;
      }
      const v = await writeVersion({
        resource,
        patient,
        seal,
        blobs: collected,
        tag,
        version: decision.version,
        supersedes: decision.supersedes,
        reason: decision.kind === 'changed' ? sealNote(noteKey(identityRootOf(keys)), 'Imported again with different content') : null,
        canonical,
        recordId,
      });
      versions.push(v);
    }
    if (versions.length > 0) {
      const blobs = collected.drain().map(({ cid, bytes }) => ({ cid, data: toBase64(bytes) }));
      const { stored } = await api<{ stored: number }>('/api/records', {
        method: 'POST',
        body: JSON.stringify({ versions: versions.map(({ patient: _p, createdAt: _c, ...v }) => v), blobs }),
      });
      progress.stored += stored;
      for (const v of versions) latest.set(v.recordId, { ...v, batchRoot: null, proof: null });
    }
    progress.done += chunk.length;
    report({ ...progress, errors: [...progress.errors] });
  }
  progress.stage = 'done';
  report({ ...progress, errors: [...progress.errors] });
  return progress;
}

/** A corrected version of a record, encrypted here and uploaded. */
export async function correctRecord(
  current: ApiVersion,
  text: string,
  reason: string,
  patient: Address,
  keys: EncryptionKeyPair,
): Promise<void> {
  await loadDefinitions();
  const parsed = parseFhirInput(text, 'correction');
  if (parsed.errors.length > 0) throw new ApiCallError('CORRECTION_INVALID', parsed.errors.map((e) => e.reason).join('; '));
  if (parsed.resources.length !== 1) throw new ApiCallError('CORRECTION_INVALID', 'A correction is exactly one FHIR resource');
  const resource = parsed.resources[0]!.resource;
  checkCorrection(reason, current, resource);
  if (recordIdFor(patient, resource.resourceType, String(resource.id)) !== current.recordId) {
    throw new ApiCallError('CORRECTION_WRONG_RECORD', 'Keep the resource\'s "id" as it was: a correction replaces this record, not another');
  }
  const tag = contentTag(contentTagKey(identityRootOf(keys)), resource);
  if (tag === current.contentTag) throw new ApiCallError('CORRECTION_UNCHANGED', 'Nothing changed: the corrected resource is the same as the current version');
  const collected = createCollectingStore();
  const v = await writeVersion({
    resource,
    patient,
    seal: createKeySealer(keys.publicKey),
    blobs: collected,
    tag,
    version: current.version + 1,
    supersedes: current.leafHash as Hex,
    reason: sealNote(noteKey(identityRootOf(keys)), reason.trim()),
  });
  const blobs = collected.drain().map(({ cid, bytes }) => ({ cid, data: toBase64(bytes) }));
  const { patient: _p, createdAt: _c, ...version } = v;
  await api('/api/records', { method: 'POST', body: JSON.stringify({ versions: [version], blobs }) });
}

/** Erasure: the server destroys the sealed keys; the reason is stored sealed to the patient. */
export function eraseRecord(recordId: string, reason: string, keys: EncryptionKeyPair): Promise<ApiErasure> {
  if (reason.trim().length < 3) throw new ApiCallError('ERASURE_NO_REASON', 'Give a reason (at least 3 characters)');
  return api<ApiErasure>(`/api/records/${recordId}/erase`, { method: 'POST', body: JSON.stringify({ reason: sealNote(noteKey(identityRootOf(keys)), reason.trim()) }) });
}

/** A stored (sealed) reason in plain text, for display in this browser. */
export const readNote = (keys: EncryptionKeyPair, sealed: string | null): string | null => openNote(noteKey(identityRootOf(keys)), sealed);

/** The offline export (the same files `consentry export` writes), zipped in the browser. */
export async function exportZip(data: RecordsData, patient: Address, keys: EncryptionKeyPair, onProgress?: (done: number, total: number) => void): Promise<Blob> {
  const files = await buildExport({
    patient,
    versions: data.versions,
    erasures: new Map(data.erasures.map((e) => [e.recordId, e])),
    anchors: new Map(data.anchors.map((a) => [a.root, a])),
    ciphertext: fetchCiphertext,
    open: createKeyOpener(keys.secretKey),
    note: (n) => openNote(noteKey(identityRootOf(keys)), n),
    ...(onProgress ? { onProgress } : {}),
  });
  const zipped = zipSync(Object.fromEntries(files), { level: 6 });
  return new Blob([zipped], { type: 'application/zip' });
}

export interface ShareContext {
  config: Config;
  account: Address;
  chainId: number;
  keys: EncryptionKeyPair;
  rpcUrl: string;
  /** The ReleaseCommittee contract. */
  committee: Address;
}

/** The release committee as the chain says it is now. */
export function readCurrentCommittee(rpcUrl: string, committee: Address): Promise<Committee> {
  return readCommittee(createPublicClient({ transport: http(rpcUrl) }), committee);
}

interface UnsharedPage {
  epoch: number;
  versions: Array<{ recordId: string; version: number; sealedKey: string }>;
  remaining?: number;
}

/** How many of the patient's versions have no share for `epoch` (the signed-in patient's own). */
export async function countUnshared(epoch: number): Promise<number> {
  const page = await api<UnsharedPage>(`/api/records/unshared?epoch=${epoch}&limit=0&count=1`);
  return page.remaining ?? 0;
}

const SHARE_PAGE = 200;

/**
 * Shares every version that has no share for the committee's current epoch: the page asks the
 * server which ones (with their sealed keys), opens each data key here with the patient's key,
 * splits it k-of-n with one share sealed to each member, and sends only the sealed shares.
 * Resolves with how many versions were shared; `onProgress(done, total)` after each page.
 */
export async function shareRecordsWithCommittee(ctx: ShareContext, onProgress?: (done: number, total: number) => void): Promise<number> {
  const committee = await readCurrentCommittee(ctx.rpcUrl, ctx.committee);
  if (committee.members.length === 0 || committee.threshold === 0) {
    throw new ApiCallError('COMMITTEE_EMPTY', 'The release committee has no members yet, so there is nobody to share with');
  }
  await ensureSession(ctx.config, ctx.account, ctx.chainId);
  const split = createDataKeySplitter(committee);
  const open = createKeyOpener(ctx.keys.secretKey);
  let done = 0;
  let total = 0;
  let previousFirst: string | undefined;
  for (let page = 0; ; page++) {
    const batch = await api<UnsharedPage>(`/api/records/unshared?epoch=${committee.epoch}&limit=${SHARE_PAGE}${page === 0 ? '&count=1' : ''}`);
    if (page === 0) {
      total = batch.remaining ?? batch.versions.length;
      onProgress?.(0, total);
    }
    if (batch.versions.length === 0) return done;
    const first = `${batch.versions[0]!.recordId}:${batch.versions[0]!.version}`;
    // The server drops a version from this list once its shares are stored; the same first row twice means they were not.
    if (first === previousFirst) throw new ApiCallError('SHARES_NOT_STORED', 'The server did not keep the shares just sent; try again');
    previousFirst = first;
    const shares: Array<{ recordId: string; version: number; member: string; sealedShare: string }> = [];
    for (const v of batch.versions) {
      let dek: Uint8Array;
      try {
        dek = open(fromBase64(v.sealedKey));
      } catch {
        throw new ApiCallError('KEY_NOT_OPENED', `The data key of record ${v.recordId.slice(0, 10)}… version ${v.version} does not open with your key`);
      }
      try {
        for (const s of await split(dek, { recordId: v.recordId, version: v.version })) {
          shares.push({ recordId: v.recordId, version: v.version, member: s.memberId, sealedShare: toBase64(s.sealed) });
        }
      } finally {
        dek.fill(0);
      }
    }
    await api('/api/records/shares', { method: 'POST', body: JSON.stringify({ epoch: committee.epoch, shares }) });
    done += batch.versions.length;
    total = Math.max(total, done);
    onProgress?.(done, total);
  }
}
