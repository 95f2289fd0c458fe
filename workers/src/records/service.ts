/**
 * A patient's records, as the patient's own client (the CLI) handles them: import FHIR into the
 * vault, read, correct, erase, anchor. The client holds the patient's keys; the vault and the blob
 * store only ever receive ciphertext, sealed keys and hashes.
 *
 * Import is resumable and idempotent: resources go in chunks, each chunk's rows in one
 * transaction after its ciphertexts are stored, and a resource whose content is already stored
 * (same content tag) is skipped. A crash loses at most the chunk in flight, which the next run
 * writes again; an orphaned ciphertext is harmless (content-addressed, unreadable without its key).
 */
import type { Address, Hex } from 'viem';
import { leafHash, recordIdFor, type RecordLeaf } from '@consentry/sdk/anchor/leaf';
import { createCollectingStore } from '@consentry/sdk/blobs/collect';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { createKeyOpener, createKeySealer } from '@consentry/sdk/crypto/envelope';
import { createDataKeySplitter, type Committee } from '@consentry/sdk/crypto/shares';
import type { Deployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';
import { canonicalJson } from '@consentry/sdk/records/canonical';
import type { Category } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import {
  checkCorrection,
  contentTag,
  contentTagKey,
  decideVersion,
  fromBase64,
  leafOfVersion,
  noteKey,
  openNote,
  openVersion,
  sealNote,
  toBase64,
  writeVersion,
  type VersionRecord,
} from '@consentry/sdk/records/versions';
import { createAnchorer } from '../anchorer/anchorer.ts';
import type { ErasureRow, ShareRow, Vault, VersionRow } from './vault.ts';

export interface ImportProgress {
  done: number;
  total: number;
  stored: number;
  unchanged: number;
  skippedErased: number;
}

export interface ImportResult extends ImportProgress {
  /** New versions of records that were already stored with other content. */
  changed: number;
}

/** The current view of one record: its newest version, and whether it was erased. */
export interface RecordSummary {
  recordId: Hex;
  resourceType: string;
  category: Category;
  latest: VersionRow;
  versions: number;
  erased: ErasureRow | null;
}

export class RecordNotFoundError extends ConsentryError {
  constructor(recordId: string) {
    super('RECORD_NOT_FOUND', `No record ${recordId} for this patient`);
    this.name = 'RecordNotFoundError';
  }
}

export const IMPORT_CHUNK = 500;

export interface RecordsServiceOptions {
  vault: Vault;
  blobs: BlobStore;
  patient: Address;
  keys: EncryptionKeyPair;
  /**
   * The account's first secret when it has rotated its key (its keyring's root, decision 031): content
   * tags and sealed notes derive from it, so re-imports still match and old reasons still open.
   */
  rootSecretKey?: Uint8Array;
}

export class RecordsService {
  readonly patient: Address;
  readonly #vault: Vault;
  readonly #blobs: BlobStore;
  readonly #seal: (dek: Uint8Array) => Uint8Array;
  readonly #open: (sealed: Uint8Array) => Uint8Array;
  readonly #tagKey: Uint8Array;
  readonly #noteKey: Uint8Array;

  constructor(opts: RecordsServiceOptions) {
    this.patient = opts.patient;
    this.#vault = opts.vault;
    this.#blobs = opts.blobs;
    this.#seal = createKeySealer(opts.keys.publicKey);
    this.#open = createKeyOpener(opts.keys.secretKey);
    const root = opts.rootSecretKey ?? opts.keys.secretKey;
    this.#tagKey = contentTagKey(root);
    this.#noteKey = noteKey(root);
  }

  /** The plain text of a stored reason (they are stored sealed to the patient). */
  note(sealed: string | null): string | null {
    return openNote(this.#noteKey, sealed);
  }

  /**
   * Imports validated resources; `onProgress` is called after every chunk. A chunk is encrypted
   * while the previous one's ciphertexts are being fsynced and its rows committed, so the CPU work
   * and the disk overlap; versions are decided against what is stored plus what this import has
   * already prepared, so a resource that appears twice (or changes) within one import still gets
   * exactly the versions it would get one chunk at a time.
   */
  async importResources(resources: readonly FhirResource[], onProgress?: (p: ImportProgress) => void): Promise<ImportResult> {
    const result: ImportResult = { done: 0, total: resources.length, stored: 0, unchanged: 0, skippedErased: 0, changed: 0 };
    const erased = await this.#vault.erasures(this.patient);
    const prepared = new Map<string, { version: number; leafHash: string; contentTag: string }>();
    let storing: Promise<void> = Promise.resolve();
    for (let first = 0; first < resources.length; first += IMPORT_CHUNK) {
      const chunk = resources.slice(first, first + IMPORT_CHUNK);
      const ids = chunk.map((r) => recordIdFor(this.patient, r.resourceType, String(r.id)));
      const stored = await this.#vault.latest(this.patient, ids.filter((id) => !prepared.has(id)));
      const collected = createCollectingStore();
      const rows: VersionRecord[] = [];
      for (const [i, resource] of chunk.entries()) {
        const recordId = ids[i]!;
        const canonical = canonicalJson(resource);
        const tag = contentTag(this.#tagKey, canonical);
        const decision = decideVersion(prepared.get(recordId) ?? stored.get(recordId), erased.has(recordId), tag);
        if (decision.kind === 'unchanged') result.unchanged++;
        else if (decision.kind === 'erased') result.skippedErased++;
        else {
          if (decision.kind === 'changed') result.changed++;
          const row = await writeVersion({
            resource,
            patient: this.patient,
            seal: this.#seal,
            blobs: collected,
            tag,
            version: decision.version,
            supersedes: decision.supersedes,
            reason: decision.kind === 'changed' ? sealNote(this.#noteKey, 'Imported again with different content') : null,
            canonical,
            recordId,
          });
          rows.push(row);
          prepared.set(recordId, row);
        }
      }
      const blobs = collected.drain().map((b) => b.bytes);
      await storing; // the previous chunk is on disk before this one is written after it
      storing = (async () => {
        // The chunk's ciphertexts in one batch (fsynced), then its rows, all of them or none.
        await this.#blobs.putMany(blobs);
        result.stored += await this.#vault.insertVersions(rows);
        result.done += chunk.length;
        onProgress?.({ ...result });
      })();
      storing.catch(() => undefined); // awaited below or on the next chunk
    }
    await storing;
    return result;
  }

  /**
   * Splits the data key of every version that has no share for the committee's epoch yet and
   * stores one share per member, sealed to that member (the committee can then release it under a
   * grant). Run after an import, and again whenever the committee's epoch changes (re-sharing).
   */
  async shareWithCommittee(committee: Committee, onProgress?: (done: number) => void): Promise<number> {
    const split = createDataKeySplitter(committee);
    let done = 0;
    for (;;) {
      const rows = await this.#vault.versionsWithoutShares(this.patient, committee.epoch, 500);
      if (rows.length === 0) return done;
      const shares: ShareRow[] = [];
      for (const row of rows) {
        const dek = this.#open(fromBase64(row.sealedKey!));
        try {
          for (const s of await split(dek, { recordId: row.recordId, version: row.version })) {
            shares.push({ recordId: row.recordId, version: row.version, member: s.memberId, epoch: committee.epoch, sealedShare: toBase64(s.sealed) });
          }
        } finally {
          dek.fill(0);
        }
      }
      await this.#vault.insertShares(shares);
      done += rows.length;
      onProgress?.(done);
    }
  }

  /** The current view: each record's newest version, newest records last. */
  async list(filter: { category?: Category } = {}): Promise<RecordSummary[]> {
    const [rows, erased] = await Promise.all([this.#vault.versions(this.patient), this.#vault.erasures(this.patient)]);
    const byRecord = new Map<string, VersionRow[]>();
    for (const r of rows) byRecord.set(r.recordId, [...(byRecord.get(r.recordId) ?? []), r]);
    const out: RecordSummary[] = [];
    for (const [recordId, versions] of byRecord) {
      const latest = versions.reduce((a, b) => (b.version > a.version ? b : a));
      if (filter.category && latest.category !== filter.category) continue;
      out.push({
        recordId: recordId as Hex,
        resourceType: latest.resourceType,
        category: latest.category as Category,
        latest,
        versions: versions.length,
        erased: erased.get(recordId) ?? null,
      });
    }
    return out;
  }

  /** Every version of a record, oldest first. */
  async history(recordId: string): Promise<VersionRow[]> {
    const rows = await this.#vault.versions(this.patient, recordId);
    if (rows.length === 0) throw new RecordNotFoundError(recordId);
    return rows.sort((a, b) => a.version - b.version);
  }

  /** Decrypts one version (the newest by default). */
  async read(recordId: string, version?: number): Promise<{ row: VersionRow; resource: FhirResource }> {
    const history = await this.history(recordId);
    const row = version === undefined ? history.at(-1)! : history.find((r) => r.version === version);
    if (!row) throw new RecordNotFoundError(`${recordId} version ${version}`);
    const resource = openVersion(row, this.#open, await this.#blobs.get(row.cid));
    return { row, resource };
  }

  /** Writes a corrected version that supersedes the newest one; history is kept. */
  async correct(recordId: string, resource: FhirResource, reason: string): Promise<VersionRow> {
    const history = await this.history(recordId);
    const latest = history.at(-1)!;
    if ((await this.#vault.erasures(this.patient)).has(recordId)) {
      throw new ConsentryError('RECORD_ERASED', `Record ${recordId} was erased; it cannot be corrected`);
    }
    checkCorrection(reason, latest, resource);
    if (recordIdFor(this.patient, resource.resourceType, String(resource.id)) !== recordId) {
      throw new ConsentryError('CORRECTION_WRONG_RECORD', `The corrected resource's id is not this record's (keep "id" as it was)`);
    }
    const tag = contentTag(this.#tagKey, resource);
    if (tag === latest.contentTag) throw new ConsentryError('CORRECTION_UNCHANGED', 'The corrected resource is the same as the current version');
    const row = await writeVersion({
      resource,
      patient: this.patient,
      seal: this.#seal,
      blobs: this.#blobs,
      tag,
      version: latest.version + 1,
      supersedes: latest.leafHash as Hex,
      reason: sealNote(this.#noteKey, reason.trim()),
    });
    if ((await this.#vault.insertVersions([row])) !== 1) {
      throw new ConsentryError('CORRECTION_CONFLICT', `Record ${recordId} changed while correcting it; try again`);
    }
    return { ...row, batchRoot: null, proof: null };
  }

  /** Crypto-shredding: destroys every sealed copy of the record's data keys. */
  async erase(recordId: string, reason: string, now = Date.now()): Promise<ErasureRow> {
    await this.history(recordId);
    if (reason.trim().length < 3) throw new ConsentryError('ERASURE_NO_REASON', 'An erasure needs a reason (at least 3 characters)');
    const erasure: ErasureRow = { recordId, patient: this.patient.toLowerCase(), erasedAt: now, reason: sealNote(this.#noteKey, reason.trim()) };
    await this.#vault.erase(erasure);
    return (await this.#vault.erasures(this.patient)).get(recordId)!;
  }
}

export const leafOf = (row: VersionRow): RecordLeaf => leafOfVersion(row);

export interface AnchorPendingOptions {
  vault: Vault;
  blobs: BlobStore;
  rpcUrl: string;
  privateKey: Hex;
  deployment: Deployment;
  /** Only this patient's versions (the CLI); all pending versions otherwise (the worker). */
  patient?: Address;
  maxBatch?: number;
  onBatch?: (b: { root: Hex; leaves: number; txHash: Hex }) => void;
}

/** Anchors pending versions in batches and stores each version's inclusion proof. */
export async function anchorPending(opts: AnchorPendingOptions): Promise<{ batches: number; versions: number }> {
  const maxBatch = opts.maxBatch ?? 1024;
  const contract = opts.deployment.contracts.RecordAnchor?.address;
  // Counted as batches land: the anchorer also flushes by itself whenever maxBatch leaves wait.
  let batches = 0;
  let versions = 0;
  const attempted = new Set<string>();
  const anchorer = createAnchorer({
    rpcUrl: opts.rpcUrl,
    privateKey: opts.privateKey,
    deployment: opts.deployment,
    blobs: opts.blobs,
    maxBatch,
    maxAgeMs: 0,
    async onAnchored(batch) {
      await opts.vault.markAnchored(
        {
          root: batch.root,
          chainId: opts.deployment.chainId,
          contract: String(contract).toLowerCase(),
          batchId: batch.batchId.toString(),
          transactionHash: batch.txHash,
          blockNumber: Number(batch.blockNumber),
          leafCount: batch.leaves.length,
          manifestCid: batch.manifestCid,
          anchoredAt: Date.now(),
        },
        batch.leaves.map((leaf, i) => ({ leafHash: leafHash(leaf), proof: batch.proofs[i]! })),
      );
      batches++;
      versions += batch.leaves.length;
      opts.onBatch?.({ root: batch.root, leaves: batch.leaves.length, txHash: batch.txHash });
    },
  });
  try {
    for (;;) {
      const rows = await opts.vault.pending(maxBatch, opts.patient);
      if (rows.length === 0) break;
      // A version still pending after its batch landed means its stored leaf hash does not match
      // its fields: stop rather than anchor the same batch forever.
      const stuck = rows.find((r) => attempted.has(r.leafHash));
      if (stuck) throw new ConsentryError('ANCHOR_NOT_RECORDED', `Version ${stuck.version} of record ${stuck.recordId} was anchored but its proof could not be stored: its leaf hash does not match its fields`);
      for (const r of rows) attempted.add(r.leafHash);
      for (const row of rows) anchorer.enqueue(leafOf(row));
      await anchorer.flush();
    }
  } finally {
    await anchorer.stop();
  }
  return { batches, versions };
}
