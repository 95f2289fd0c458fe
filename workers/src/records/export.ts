/**
 * NODE-ONLY. The offline export on disk: `consentry export` writes the files of the export format
 * (sdk/src/records/export-format.ts) into a folder and, if asked, a .zip of it; `consentry verify`
 * reads either back.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import type { Address } from 'viem';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { createKeyOpener } from '@consentry/sdk/crypto/envelope';
import { ConsentryError } from '@consentry/sdk/errors';
import { buildExport, exportStats } from '@consentry/sdk/records/export-format';
import { noteKey, openNote } from '@consentry/sdk/records/versions';
import type { Vault } from './vault.ts';

export { verifyExport, type VerifyProblem, type VerifyReport } from '@consentry/sdk/records/export-format';

export interface ExportOptions {
  vault: Vault;
  blobs: BlobStore;
  patient: Address;
  out: string;
  /** The patient's X25519 secret key: adds the decrypted bundle and the HTML summary. */
  secretKey?: Uint8Array;
  /** Also write `<out>.zip`. */
  zip?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  dir: string;
  zip?: string;
  records: number;
  versions: number;
  unanchored: number;
}

export async function exportRecords(opts: ExportOptions): Promise<ExportResult> {
  const versions = await opts.vault.versions(opts.patient);
  const [erasures, anchors] = await Promise.all([
    opts.vault.erasures(opts.patient),
    opts.vault.anchors(versions.flatMap((r) => (r.batchRoot ? [r.batchRoot] : []))),
  ]);
  const files = await buildExport({
    patient: opts.patient,
    versions,
    erasures,
    anchors,
    ciphertext: (cid) => opts.blobs.get(cid),
    ...(opts.secretKey ? { open: createKeyOpener(opts.secretKey), note: (n: string | null) => openNote(noteKey(opts.secretKey!), n) } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  for (const [path, bytes] of files) {
    const target = join(opts.out, ...path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bytes);
  }
  let zip: string | undefined;
  if (opts.zip) {
    zip = `${opts.out.replace(/[\\/]+$/, '')}.zip`;
    writeFileSync(zip, zipSync(Object.fromEntries(files), { level: 6 }));
  }
  return { dir: opts.out, ...(zip ? { zip } : {}), ...exportStats(versions) };
}

/** Reads an export folder or its .zip into path → bytes. */
export function readExport(path: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new ConsentryError('EXPORT_NOT_FOUND', `No export at ${path}`);
  }
  if (stat.isFile()) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(readFileSync(path));
    } catch (cause) {
      throw new ConsentryError('EXPORT_DAMAGED', `${path} is not a readable .zip export`, { cause });
    }
    for (const [name, bytes] of Object.entries(entries)) if (!name.endsWith('/')) files.set(name, bytes);
    return files;
  }
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(relative(path, full).split(sep).join('/'), readFileSync(full));
    }
  };
  walk(path);
  return files;
}

