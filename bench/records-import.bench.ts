/**
 * Record import throughput from synthetic FHIR bundles, chain excluded:
 *   records.parse_only_per_s   parse + validate (@medplum/core) only: the baseline
 *   records.import_per_s       the whole import as `consentry import` runs it: parse + validate, then
 *                              the records service (canonicalise, content tag, categorise, encrypt,
 *                              seal, ciphertext into the filesystem blob store with fsync, rows into
 *                              the SQLite vault, one transaction per chunk of 500)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { createFsBlobStore } from '../sdk/src/blobs/fs.ts';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '../sdk/src/keys.ts';
import { loadFhirDefinitions, parseFhirInput, type FhirResource } from '../sdk/src/records/fhir.ts';
import { synthesizeBundles } from '../sdk/src/synth/generate.ts';
import { ANVIL_ACCOUNTS } from '../sdk/src/testing/anvil.ts';
import { RecordsService } from '../workers/src/records/service.ts';
import { Vault } from '../workers/src/records/vault.ts';

const bundles = synthesizeBundles({ patients: 700, seed: 'bench' }).map((b) => JSON.stringify(b));
loadFhirDefinitions(); // once per process, outside both timings

let t = performance.now();
let count = 0;
for (const text of bundles) count += parseFhirInput(text).resources.length;
const parseRate = count / ((performance.now() - t) / 1000);

const dir = mkdtempSync(join(tmpdir(), 'consentry-import-bench-'));
try {
  const account = privateKeyToAccount(ANVIL_ACCOUNTS[1]!.privateKey);
  const keys = deriveEncryptionKeyPair(await account.signTypedData(keyDerivationTypedData(31337)));
  const vault = await Vault.open({ dataDir: dir });
  const service = new RecordsService({ vault, blobs: await createFsBlobStore(join(dir, 'blobs')), patient: account.address, keys });
  t = performance.now();
  const resources: FhirResource[] = [];
  for (const text of bundles) for (const r of parseFhirInput(text).resources) resources.push(r.resource);
  const result = await service.importResources(resources);
  const importRate = result.stored / ((performance.now() - t) / 1000);
  await vault.close();
  console.log(`records.parse_only_per_s: ${Math.round(parseRate)} resources/s`);
  console.log(`records.import_per_s: ${Math.round(importRate)} resources/s`);
  console.log(`records.import_resources: ${result.stored} resources`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
