// The records service end to end on every database: import (idempotent, re-import as new version),
// read, correct with history, erase by crypto-shredding, anchoring on a real anvil chain, and the
// offline export that verifies and names the record of any altered byte.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { deployContracts, type DeployResult } from '../../../contracts/script/deploy.ts';
import { recordAnchorAbi } from '@consentry/sdk/abi/generated';
import { leafHash, recordIdFor, verifyLeaf } from '@consentry/sdk/anchor/leaf';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { exportRecords, readExport, verifyExport } from './export.ts';
import { anchorPending, leafOf, RecordsService } from './service.ts';
import { vaultKinds } from './testing/vaults.ts';
import type { Vault } from './vault.ts';

const account = privateKeyToAccount(ANVIL_ACCOUNTS[4]!.privateKey);
const resources = (seed: string, patients = 2): FhirResource[] =>
  synthesizeBundles({ patients, seed }).flatMap((b) => b.entry.map((e) => e.resource as FhirResource));

let anvil: AnvilInstance;
let deployment: DeployResult;
let keys: EncryptionKeyPair;
const dir = mkdtempSync(join(tmpdir(), 'consentry-records-'));

beforeAll(async () => {
  anvil = await startAnvil();
  deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: 31337, deploymentsDir: dir });
  keys = deriveEncryptionKeyPair(await account.signTypedData(keyDerivationTypedData(31337)));
});
afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(vaultKinds())('records on $name', (kind) => {
  let vault: Vault;
  let blobs: BlobStore;
  let service: RecordsService;
  beforeAll(async () => {
    vault = await kind.open();
    blobs = await createFsBlobStore(mkdtempSync(join(dir, `blobs-${kind.name}-`)));
    service = new RecordsService({ vault, blobs, patient: account.address, keys });
  });
  afterAll(async () => {
    await vault?.close();
    await kind.cleanup();
  });

  const input = resources(`svc-${kind.name}`);
  it('imports once: a second run of the same input stores nothing; changed content becomes version 2', async () => {
    const progress: number[] = [];
    const first = await service.importResources(input, (p) => progress.push(p.done));
    expect(first).toMatchObject({ total: input.length, stored: input.length, unchanged: 0, changed: 0 });
    expect(progress.at(-1)).toBe(input.length);
    const again = await service.importResources(input);
    expect(again).toMatchObject({ stored: 0, unchanged: input.length });
    expect(await service.list()).toHaveLength(input.length);

    const edited = structuredClone(input[3]!) as FhirResource & { meta?: unknown };
    (edited as Record<string, unknown>).language = 'en';
    const changed = await service.importResources([edited]);
    expect(changed).toMatchObject({ stored: 1, changed: 1 });
    const recordId = leafOf((await vault.versions(account.address)).at(-1)!).recordId;
    const history = await service.history(recordId);
    expect(history.map((h) => h.version)).toEqual([1, 2]);
    expect(history[1]!.supersedes).toBe(history[0]!.leafHash);
    expect((await service.read(recordId)).resource).toEqual(edited);
    expect((await service.read(recordId, 1)).resource).toEqual(input[3]);
  });

  it('gives a resource repeated in one import (same or changed, across chunks) exactly the versions of one-at-a-time imports', async () => {
    const base = { resourceType: 'Observation', id: `repeat-${kind.name}`, status: 'final', code: { text: 'Weight' } } as FhirResource;
    const filler = resources(`filler-${kind.name}`, 40).slice(0, 600); // pushes the repeats into another chunk
    const changed = { ...base, status: 'amended' } as FhirResource;
    const result = await service.importResources([base, base, ...filler, base, changed]);
    expect(result).toMatchObject({ stored: 2 + filler.length, changed: 1, unchanged: 2 });
    const recordId = recordIdFor(account.address, 'Observation', `repeat-${kind.name}`);
    const history = await service.history(recordId);
    expect(history.map((h) => h.version)).toEqual([1, 2]);
    expect((await service.read(recordId)).resource).toEqual(changed);
  });

  it('stores only ciphertext and sealed keys: no plaintext marker reaches the vault or the blob store', async () => {
    const marker = `plaintext-marker-${kind.name}-4f1c`;
    const resource = { resourceType: 'Observation', id: `marker-${kind.name}`, status: 'final', code: { text: marker } } as FhirResource;
    await service.importResources([resource]);
    const rows = await vault.versions(account.address);
    expect(JSON.stringify(rows)).not.toContain(marker);
    for (const r of rows.slice(-3)) expect(Buffer.from(await blobs.get(r.cid)).toString('latin1')).not.toContain(marker);
  });

  it('corrects with a reason and keeps the full history; refuses a correction of another record', async () => {
    const [summary] = await service.list({ category: 'labs' });
    const { resource } = await service.read(summary!.recordId);
    const corrected = { ...resource, status: 'amended' } as FhirResource;
    const row = await service.correct(summary!.recordId, corrected, 'Lab re-ran the sample');
    expect(row.version).toBe(summary!.latest.version + 1);
    expect(row.reason).not.toContain('re-ran'); // stored sealed
    expect(service.note(row.reason)).toBe('Lab re-ran the sample');
    expect((await service.read(summary!.recordId)).resource).toEqual(corrected);
    expect((await service.history(summary!.recordId)).length).toBe(row.version);
    await expect(service.correct(summary!.recordId, { ...corrected, id: 'other' } as FhirResource, 'typo fix')).rejects.toThrow(/id is not this record/);
    await expect(service.correct(summary!.recordId, corrected, 'again')).rejects.toThrow(/same as the current version/);
    await expect(service.correct(summary!.recordId, { ...corrected, status: 'final' } as FhirResource, '')).rejects.toThrow(/needs a reason/);
  });

  it('after a key rotation, a service on the new key with the keyring root still matches re-imports and opens old reasons', async () => {
    const [summary] = await service.list({ category: 'labs' });
    const reason = (await service.history(summary!.recordId)).at(-1)!.reason;
    const rotated = deriveEncryptionKeyPair(await privateKeyToAccount(ANVIL_ACCOUNTS[5]!.privateKey).signTypedData(keyDerivationTypedData(31337)));
    const withRoot = new RecordsService({ vault, blobs, patient: account.address, keys: rotated, rootSecretKey: keys.secretKey });
    expect(withRoot.note(reason)).toBe('Lab re-ran the sample');
    expect(await withRoot.importResources(input.slice(0, 3))).toMatchObject({ stored: 0, unchanged: 3 }); // input[3] was edited above
    // Without the root, the new key's tags match nothing: every resource would be stored again.
    const withoutRoot = new RecordsService({ vault, blobs, patient: account.address, keys: rotated });
    expect(withoutRoot.note(reason)).toBe('(a note this key cannot open)');
  });

  it('anchors every pending version; exports that verify offline and on chain; any altered byte names its record', async () => {
    const anchored = await anchorPending({ vault, blobs, rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[5]!.privateKey, deployment, maxBatch: 64 });
    const rows = await vault.versions(account.address);
    expect(anchored.versions).toBe(rows.length);
    expect(anchored.batches).toBe(Math.ceil(rows.length / 64));
    expect(await vault.pending(10)).toEqual([]);
    const client = publicClientFor(anvil.rpcUrl, 31337);
    for (const r of [rows[0]!, rows.at(-1)!]) {
      expect(verifyLeaf(r.batchRoot as `0x${string}`, leafOf(r), JSON.parse(r.proof!))).toBe(true);
      expect(
        await client.readContract({ address: deployment.contracts.RecordAnchor!.address, abi: recordAnchorAbi, functionName: 'verifyRecord', args: [r.batchRoot as `0x${string}`, r.leafHash as `0x${string}`, JSON.parse(r.proof!)] }),
      ).toBe(true);
    }

    const out = join(dir, `export-${kind.name}`);
    const result = await exportRecords({ vault, blobs, patient: account.address, out, secretKey: keys.secretKey, zip: true });
    expect(result).toMatchObject({ versions: rows.length, unanchored: 0 });
    const files = readExport(out);
    const clean = await verifyExport(files, { rpcUrl: anvil.rpcUrl });
    expect(clean.problems).toEqual([]);
    expect(clean).toMatchObject({ versions: rows.length, anchoredVersions: rows.length });
    expect(clean.rootsOnChain).toBe(new Set(rows.map((r) => r.batchRoot)).size);
    expect((await verifyExport(readExport(result.zip!))).problems).toEqual([]);
    expect(new TextDecoder().decode(files.get('summary.html')!)).toContain('<h2>labs</h2>');

    // Flip one byte in one file of each kind: verification fails and names the record it belongs to.
    const victim = rows[5]!;
    const flip = (path: string, at: (bytes: Uint8Array) => number) => {
      const copy = new Map(files);
      const bytes = Uint8Array.from(copy.get(path)!);
      bytes[at(bytes)]! ^= 0x01;
      copy.set(path, bytes);
      return verifyExport(copy);
    };
    const names = (problems: Awaited<ReturnType<typeof verifyExport>>['problems']) => problems.map((p) => p.recordId);
    const manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json')!));
    const entry = manifest.records.find((r: { recordId: string }) => r.recordId === victim.recordId);
    expect(names((await flip(`ciphertexts/${victim.cid}`, (b) => b.length - 3)).problems)).toContain(victim.recordId);
    const sealed = entry.versions.find((v: { sealedKey: unknown }) => v.sealedKey).sealedKey.file;
    expect(names((await flip(sealed, () => 40)).problems)).toContain(victim.recordId);
    const inBundle = await flip('fhir-bundle.json', () => entry.bundle.start + 20);
    expect(names(inBundle.problems)).toEqual([victim.recordId]);
    expect(names((await flip('summary.html', () => entry.html.start + 8)).problems)).toEqual([victim.recordId]);
    // Inside the manifest: the victim's category text.
    const text = new TextDecoder().decode(files.get('manifest.json')!);
    const at = text.indexOf(`"recordId": "${victim.recordId}"`);
    const inManifest = await flip('manifest.json', () => text.indexOf('"category"', at) + 14);
    expect(inManifest.problems.length).toBeGreaterThan(0);
    expect(names(inManifest.problems)).toContain(victim.recordId);
    // The whole CID string of a version changed: the leaf no longer matches (and the proof fails).
    const digitAt = text.indexOf(victim.cid, at) + 10;
    expect(names((await flip('manifest.json', () => digitAt)).problems)).toContain(victim.recordId);
  });

  it('erases by destroying every sealed key: no key opens the record, its anchored hash still verifies', async () => {
    const [target] = await service.list({ category: 'medications' });
    const before = await service.history(target!.recordId);
    expect(before.every((v) => v.sealedKey !== null)).toBe(true);
    await service.erase(target!.recordId, 'Patient request under GDPR Art. 17');
    const after = await service.history(target!.recordId);
    expect(after.every((v) => v.sealedKey === null)).toBe(true);
    await expect(service.read(target!.recordId)).rejects.toThrow(/erased/);
    const summary = (await service.list()).find((r) => r.recordId === target!.recordId)!;
    expect(summary.erased?.reason).not.toContain('GDPR');
    expect(service.note(summary.erased!.reason)).toBe('Patient request under GDPR Art. 17');
    for (const v of after) {
      expect(leafHash(leafOf(v))).toBe(v.leafHash);
      expect(verifyLeaf(v.batchRoot as `0x${string}`, leafOf(v), JSON.parse(v.proof!))).toBe(true);
    }
    // Re-importing the erased record does not bring it back.
    const original = input.find((r) => recordIdFor(account.address, r.resourceType, String(r.id)) === target!.recordId)!;
    expect(await service.importResources([original])).toMatchObject({ stored: 0, skippedErased: 1 });
    expect((await vault.erasures(account.address)).size).toBe(1);
    const out = join(dir, `export-erased-${kind.name}`);
    await exportRecords({ vault, blobs, patient: account.address, out, secretKey: keys.secretKey });
    const report = await verifyExport(readExport(out));
    expect(report.problems).toEqual([]);
  });
});
