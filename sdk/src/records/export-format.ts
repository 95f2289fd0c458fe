/**
 * The offline export format (browser-safe): the CLI writes it to a folder (and .zip), the web app
 * builds the same files in the browser and downloads them as a .zip.
 *
 *   manifest.json            what is in it, every hash, proof and anchor reference
 *   ciphertexts/<cid>        each version's ciphertext, named by its CID
 *   sealed-keys/<leafHash>   each version's data key sealed to the patient (absent once erased)
 *   fhir-bundle.json         with the patient's key: the current versions as a FHIR collection Bundle
 *   summary.html             with the patient's key: a readable summary
 *
 * Every byte is covered: ciphertexts by their CIDs, leaves by their Merkle proofs (and, with an RPC
 * URL, the roots by the chain), sealed keys and each record's stretch of the bundle and summary by
 * SHA-256 in the record's manifest entry, and each manifest entry by its own digest. So a changed
 * byte anywhere is reported against the record it belongs to.
 */
import { sha256 as sha256Hash } from '@noble/hashes/sha2.js';
import { bytesToHex as toHex } from '@noble/hashes/utils.js';
import { getAddress, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { recordAnchorAbi } from '../abi/generated.ts';
import { leafHash, verifyLeaf } from '../anchor/leaf.ts';
import { cidOf } from '../blobs/cid.ts';
import { publicClientFor, rpcOrigin } from '../clients.ts';
import { ConsentryError } from '../errors.ts';
import { canonicalJson } from './canonical.ts';
import { CATEGORIES, type Category } from './categories.ts';
import { describeResource } from './describe.ts';
import type { FhirResource } from './fhir-types.ts';
import { fromBase64, leafOfVersion, openVersion } from './versions.ts';

export const EXPORT_FORMAT = 'consentry/export/v1';
const hex = z.string().regex(/^0x[0-9a-f]*$/);
const range = z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative(), sha256: z.string() });

const versionSchema = z.object({
  version: z.number().int().positive(),
  leafHash: hex,
  cid: z.string(),
  supersedes: hex,
  reason: z.string().nullable(),
  createdAt: z.string(),
  ciphertext: z.string().nullable(),
  sealedKey: z.object({ file: z.string(), sha256: z.string() }).nullable(),
  anchor: z
    .object({
      root: hex,
      proof: z.array(hex),
      chainId: z.number().int(),
      contract: hex,
      batchId: z.string(),
      transactionHash: hex,
      blockNumber: z.number().int(),
    })
    .nullable(),
});

const recordSchema = z.object({
  recordId: hex,
  resourceType: z.string(),
  category: z.enum(CATEGORIES),
  erased: z.object({ at: z.string(), reason: z.string() }).nullable(),
  versions: z.array(versionSchema).min(1),
  bundle: range.nullable(),
  html: range.nullable(),
  digest: z.string(),
});

const manifestSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  patient: hex,
  exportedAt: z.string(),
  decrypted: z.boolean(),
  files: z.record(z.string(), z.string()),
  records: z.array(recordSchema),
  digest: z.string(),
});

export type ExportManifest = z.infer<typeof manifestSchema>;
type RecordEntry = z.infer<typeof recordSchema>;

const sha256 = (bytes: Uint8Array | string): string => toHex(sha256Hash(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes));
const digestOf = (value: Record<string, unknown>): string => {
  const { digest: _ignored, ...rest } = value;
  return sha256(canonicalJson(rest));
};
const iso = (ms: number) => new Date(ms).toISOString();

/** A stored version as the export needs it (a vault row, or what the web API returns). */
export interface ExportVersion {
  leafHash: string;
  recordId: string;
  version: number;
  category: string;
  resourceType: string;
  cid: string;
  supersedes: string;
  reason: string | null;
  sealedKey: string | null;
  createdAt: number;
  batchRoot: string | null;
  /** The inclusion proof, as an array or its JSON. */
  proof: string | readonly string[] | null;
}
export interface ExportAnchor {
  root: string;
  chainId: number;
  contract: string;
  batchId: string;
  transactionHash: string;
  blockNumber: number;
}
export interface ExportErasure {
  erasedAt: number;
  reason: string;
}

export interface BuildExportOptions {
  patient: Address;
  versions: readonly ExportVersion[];
  erasures: ReadonlyMap<string, ExportErasure>;
  anchors: ReadonlyMap<string, ExportAnchor>;
  /** The ciphertext under a CID (from the blob store, or fetched). */
  ciphertext: (cid: string) => Promise<Uint8Array>;
  /** Opens the patient's sealed keys: adds the decrypted bundle and the HTML summary. */
  open?: (sealed: Uint8Array) => Uint8Array;
  /** Opens sealed reasons for the readable summary (the manifest keeps them sealed). */
  note?: (sealed: string | null) => string | null;
  onProgress?: (done: number, total: number) => void;
}

/** Builds every file of the export: path → bytes. */
export async function buildExport(opts: BuildExportOptions): Promise<Map<string, Uint8Array>> {
  const rows = opts.versions;
  if (rows.length === 0) throw new ConsentryError('EXPORT_EMPTY', `Patient ${opts.patient} has no records to export`);
  const { erasures, anchors, open } = opts;
  const files = new Map<string, Uint8Array>();
  const byRecord = new Map<string, ExportVersion[]>();
  for (const r of rows) byRecord.set(r.recordId, [...(byRecord.get(r.recordId) ?? []), r]);

  const entries: Array<Omit<RecordEntry, 'digest' | 'bundle' | 'html'> & { current?: FhirResource }> = [];
  let done = 0;
  for (const [recordId, versions] of byRecord) {
    versions.sort((a, b) => a.version - b.version);
    const erased = erasures.get(recordId) ?? null;
    const entryVersions = [];
    for (const v of versions) {
      const ciphertext = await opts.ciphertext(v.cid).catch((cause: unknown) => {
        throw new ConsentryError('EXPORT_BLOB_MISSING', `The ciphertext of record ${recordId} version ${v.version} (${v.cid}) cannot be read`, { cause });
      });
      files.set(`ciphertexts/${v.cid}`, ciphertext);
      let sealedKey = null;
      if (v.sealedKey !== null) {
        const bytes = fromBase64(v.sealedKey);
        const file = `sealed-keys/${v.leafHash}`;
        files.set(file, bytes);
        sealedKey = { file, sha256: sha256(bytes) };
      }
      entryVersions.push({
        version: v.version,
        leafHash: v.leafHash,
        cid: v.cid,
        supersedes: v.supersedes,
        reason: v.reason,
        createdAt: iso(v.createdAt),
        ciphertext: `ciphertexts/${v.cid}`,
        sealedKey,
        anchor: anchorRef(v, anchors),
      });
      opts.onProgress?.(++done, rows.length);
    }
    const latest = versions.at(-1)!;
    const current = open && !erased ? openVersion(latest, open, files.get(`ciphertexts/${latest.cid}`)!) : undefined;
    entries.push({
      recordId: recordId as Hex,
      resourceType: latest.resourceType,
      category: latest.category as Category,
      erased: erased ? { at: iso(erased.erasedAt), reason: erased.reason } : null,
      versions: entryVersions,
      ...(current ? { current } : {}),
    });
  }

  const decrypted = Boolean(open);
  const bundleRanges = new Map<string, z.infer<typeof range>>();
  const htmlRanges = new Map<string, z.infer<typeof range>>();
  if (decrypted) {
    files.set('fhir-bundle.json', writeBundle(entries, bundleRanges));
    files.set('summary.html', writeSummary(opts.patient, entries, erasures, htmlRanges, opts.note ?? ((n) => n)));
  }
  const records: RecordEntry[] = entries.map(({ current: _plain, ...e }) => {
    const entry = { ...e, bundle: bundleRanges.get(e.recordId) ?? null, html: htmlRanges.get(e.recordId) ?? null, digest: '' };
    entry.digest = digestOf(entry);
    return entry;
  });
  const fileHashes = Object.fromEntries(['fhir-bundle.json', 'summary.html'].filter((f) => files.has(f)).map((f) => [f, sha256(files.get(f)!)]));
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    patient: opts.patient.toLowerCase(),
    exportedAt: new Date().toISOString(),
    decrypted,
    files: fileHashes,
    records,
    digest: '',
  };
  manifest.digest = digestOf(manifest);
  files.set('manifest.json', new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}

export const exportStats = (versions: readonly ExportVersion[]) => ({
  records: new Set(versions.map((v) => v.recordId)).size,
  versions: versions.length,
  unanchored: versions.filter((v) => !v.batchRoot).length,
});

function anchorRef(v: ExportVersion, anchors: ReadonlyMap<string, ExportAnchor>) {
  const a = v.batchRoot ? anchors.get(v.batchRoot) : undefined;
  if (!a || !v.proof) return null;
  return {
    root: a.root,
    proof: typeof v.proof === 'string' ? (JSON.parse(v.proof) as string[]) : [...v.proof],
    chainId: a.chainId,
    contract: a.contract,
    batchId: a.batchId,
    transactionHash: a.transactionHash,
    blockNumber: a.blockNumber,
  };
}

/** Text appended as UTF-8 bytes, knowing where each piece starts: for hashing parts of a file. */
function byteWriter() {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let offset = 0;
  return {
    push(s: string): Uint8Array {
      const b = encoder.encode(s);
      parts.push(b);
      offset += b.length;
      return b;
    },
    /** Appends `s` and records its range and hash under `id`. */
    pushPart(id: string, s: string, ranges: Map<string, z.infer<typeof range>>): void {
      const start = offset;
      const b = this.push(s);
      ranges.set(id, { start, end: offset, sha256: sha256(b) });
    },
    bytes: () => concat(parts, offset),
  };
}

/** The bundle, recording where each record's entry sits in the bytes. */
function writeBundle(entries: ReadonlyArray<{ recordId: string; current?: FhirResource }>, ranges: Map<string, z.infer<typeof range>>): Uint8Array {
  const out = byteWriter();
  out.push(`{"resourceType":"Bundle","type":"collection","timestamp":"${new Date().toISOString()}","entry":[\n`);
  let first = true;
  for (const e of entries) {
    if (!e.current) continue;
    if (!first) out.push(',\n');
    first = false;
    out.pushPart(e.recordId, JSON.stringify({ fullUrl: `urn:consentry:record:${e.recordId}`, resource: e.current }), ranges);
  }
  out.push('\n]}\n');
  return out.bytes();
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function writeSummary(
  patient: string,
  entries: ReadonlyArray<{ recordId: string; resourceType: string; category: Category; versions: unknown[]; current?: FhirResource }>,
  erasures: ReadonlyMap<string, ExportErasure>,
  ranges: Map<string, z.infer<typeof range>>,
  note: (sealed: string | null) => string | null,
): Uint8Array {
  const out = byteWriter();
  const push = (s: string) => out.push(s);
  push(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Health records · Consentry export</title>` +
      `<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}` +
      `table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{border-bottom:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}` +
      `h2{margin-top:2rem;text-transform:capitalize}.muted{color:#555}</style></head><body>\n` +
      `<h1>Health records</h1><p class="muted">Patient ${escapeHtml(patient)} · exported ${escapeHtml(new Date().toISOString())} · ` +
      `check it with <code>consentry verify &lt;this folder&gt;</code></p>\n`,
  );
  for (const category of CATEGORIES) {
    const inCategory = entries.filter((e) => e.category === category && (e.current || erasures.has(e.recordId)));
    if (inCategory.length === 0) continue;
    push(`<h2>${escapeHtml(category.replace('-', ' '))}</h2>\n<table><thead><tr><th>Record</th><th>Value</th><th>Date</th><th>Versions</th></tr></thead><tbody>\n`);
    for (const e of inCategory) {
      const erased = erasures.get(e.recordId);
      const d = e.current ? describeResource(e.current) : undefined;
      const row = d
        ? `<tr><td>${escapeHtml(d.title)} <span class="muted">(${escapeHtml(e.resourceType)})</span></td><td>${escapeHtml(d.detail)}</td><td>${escapeHtml(d.date)}</td><td>${e.versions.length}</td></tr>\n`
        : `<tr><td>${escapeHtml(e.resourceType)} <span class="muted">erased ${escapeHtml(new Date(erased!.erasedAt).toISOString())}: ${escapeHtml(note(erased!.reason) ?? '')}</span></td><td></td><td></td><td>${e.versions.length}</td></tr>\n`;
      out.pushPart(e.recordId, row, ranges);
    }
    push('</tbody></table>\n');
  }
  push('</body></html>\n');
  return out.bytes();
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Verification

export interface VerifyProblem {
  /** The record concerned, or null for the export as a whole. */
  recordId: string | null;
  resourceType?: string;
  version?: number;
  problem: string;
}

export interface VerifyReport {
  records: number;
  versions: number;
  anchoredVersions: number;
  /** Distinct roots checked on chain (with --rpc). */
  rootsOnChain: number;
  problems: VerifyProblem[];
  warnings: string[];
}

export interface VerifyOptions {
  /** Also check each root is anchored on this chain. */
  rpcUrl?: string;
}

export async function verifyExport(files: Map<string, Uint8Array>, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const warnings: string[] = [];
  const raw = files.get('manifest.json');
  if (!raw) throw new ConsentryError('EXPORT_DAMAGED', 'The export has no manifest.json');
  let manifest: ExportManifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(new TextDecoder().decode(raw)));
  } catch (cause) {
    // A flipped byte that breaks the JSON or its shape: name the record it falls in, if any.
    const where = recordAround(raw, cause);
    return { records: 0, versions: 0, anchoredVersions: 0, rootsOnChain: 0, warnings, problems: [{ recordId: where, problem: `manifest.json is damaged: ${shortReason(cause)}` }] };
  }
  let patient: Address;
  try {
    patient = getAddress(manifest.patient);
  } catch {
    problems.push({ recordId: null, problem: 'manifest.json: the patient address is damaged' });
    return { records: manifest.records.length, versions: 0, anchoredVersions: 0, rootsOnChain: 0, problems, warnings };
  }

  const recordDigests = manifest.records.map((r) => digestOf(r) === r.digest);
  if (recordDigests.every(Boolean) && digestOf(manifest) !== manifest.digest) {
    problems.push({ recordId: null, problem: 'manifest.json: its header (patient, files or record list) was altered' });
  }
  for (const [name, hash] of Object.entries(manifest.files)) {
    const bytes = files.get(name);
    if (!bytes) problems.push({ recordId: null, problem: `${name} is missing` });
    else if (sha256(bytes) !== hash) {
      const blamed = manifest.records.filter((r) => {
        const span = name === 'fhir-bundle.json' ? r.bundle : r.html;
        return span && sha256(bytes.subarray(span.start, span.end)) !== span.sha256;
      });
      if (blamed.length === 0) problems.push({ recordId: null, problem: `${name} was altered (outside any record's part)` });
      for (const r of blamed) problems.push({ recordId: r.recordId, resourceType: r.resourceType, problem: `its part of ${name} was altered` });
    }
  }

  let versions = 0;
  let anchoredVersions = 0;
  const roots = new Map<string, { chainId: number; contract: string; batchId: string; records: Set<string> }>();
  manifest.records.forEach((r, i) => {
    const blame = (problem: string, version?: number) =>
      problems.push({ recordId: r.recordId, resourceType: r.resourceType, ...(version !== undefined ? { version } : {}), problem });
    if (!recordDigests[i]) blame('its manifest entry was altered');
    let previous: string | null = null;
    for (const v of r.versions) {
      versions++;
      if (v.ciphertext !== null) {
        const bytes = files.get(v.ciphertext);
        if (!bytes) blame(`ciphertext ${v.ciphertext} is missing`, v.version);
        else if (cidOf(bytes) !== v.cid) blame('ciphertext was altered (it no longer hashes to its CID)', v.version);
      }
      if (v.sealedKey) {
        const bytes = files.get(v.sealedKey.file);
        if (!bytes) blame(`sealed key ${v.sealedKey.file} is missing`, v.version);
        else if (sha256(bytes) !== v.sealedKey.sha256) blame('sealed key was altered', v.version);
      }
      const expectedSupersedes = previous ?? `0x${'0'.repeat(64)}`;
      if (v.supersedes !== expectedSupersedes) blame('its version chain is broken (supersedes is not the previous version)', v.version);
      previous = v.leafHash;
      let leaf;
      try {
        leaf = leafOfVersion({ patient, recordId: r.recordId, version: v.version, category: r.category, cid: v.cid, supersedes: v.supersedes });
        if (leafHash(leaf) !== v.leafHash) blame('its leaf does not match its fields (altered)', v.version);
      } catch {
        blame('its leaf fields are damaged', v.version);
        continue;
      }
      if (!v.anchor) {
        warnings.push(`${r.resourceType} ${r.recordId} version ${v.version} is not anchored yet (run \`consentry anchor\` and export again)`);
        continue;
      }
      if (!verifyLeaf(v.anchor.root as Hex, leaf, v.anchor.proof as Hex[])) {
        blame(`its inclusion proof does not verify against root ${v.anchor.root}`, v.version);
        continue;
      }
      anchoredVersions++;
      const known = roots.get(v.anchor.root) ?? { chainId: v.anchor.chainId, contract: v.anchor.contract, batchId: v.anchor.batchId, records: new Set() };
      known.records.add(r.recordId);
      roots.set(v.anchor.root, known);
    }
  });

  let rootsOnChain = 0;
  if (opts.rpcUrl && roots.size > 0) {
    for (const [root, ref] of roots) {
      const client = publicClientFor(opts.rpcUrl, ref.chainId, { retryCount: 1 });
      let batchId: bigint;
      try {
        [batchId] = await client.readContract({ address: ref.contract as Address, abi: recordAnchorAbi, functionName: 'anchoredAt', args: [root as Hex] });
      } catch (cause) {
        throw new ConsentryError('VERIFY_RPC', `Cannot read the anchor contract ${ref.contract} on chain ${ref.chainId} at ${rpcOrigin(opts.rpcUrl)}: ${shortReason(cause)}`, { cause });
      }
      if (batchId === 0n || batchId.toString() !== ref.batchId) {
        for (const recordId of ref.records) {
          const r = manifest.records.find((x) => x.recordId === recordId)!;
          problems.push({ recordId, resourceType: r.resourceType, problem: batchId === 0n ? `root ${root} is not anchored on chain ${ref.chainId}` : `root ${root} is anchored in batch ${batchId}, not ${ref.batchId}` });
        }
      } else rootsOnChain++;
    }
  }
  return { records: manifest.records.length, versions, anchoredVersions, rootsOnChain, problems, warnings };
}

function shortReason(cause: unknown): string {
  if (cause instanceof z.ZodError) return cause.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ');
  return (cause instanceof Error ? cause.message : String(cause)).split('\n')[0]!;
}

/** The record whose manifest entry holds the damage, found from the text around the parse error. */
function recordAround(raw: Uint8Array, cause: unknown): string | null {
  const text = new TextDecoder().decode(raw);
  let at = -1;
  const m = /position (\d+)/.exec(cause instanceof Error ? cause.message : '');
  if (m) at = Number(m[1]);
  else if (cause instanceof z.ZodError) {
    const path = cause.issues[0]?.path ?? [];
    if (path[0] === 'records' && typeof path[1] === 'number') {
      const all = [...text.matchAll(/"recordId": "(0x[0-9a-f]+)"/g)];
      return all[path[1]]?.[1] ?? null;
    }
  }
  if (at < 0) return null;
  const before = [...text.slice(0, at).matchAll(/"recordId": "(0x[0-9a-f]+)"/g)].at(-1);
  return before?.[1] ?? null;
}
