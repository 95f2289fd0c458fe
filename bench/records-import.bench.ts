/**
 * Record import throughput from synthetic FHIR bundles, chain excluded:
 *   records.parse_only_per_s   parse + validate (@medplum/core) only: the baseline
 *   records.import_per_s       parse + validate + canonicalise + categorise + encrypt + seal + store the
 *                              ciphertext in the filesystem blob store (fsync per blob; a bundle's
 *                              resources in flight together) + build the leaf
 * The record index (database rows) is not in this figure yet: it arrives with the record store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '@noble/hashes/utils.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { createFsBlobStore } from '../sdk/src/blobs/fs.ts';
import { createKeySealer } from '../sdk/src/crypto/envelope.ts';
import { loadFhirDefinitions, parseFhirInput } from '../sdk/src/records/fhir.ts';
import { prepareRecordVersion } from '../sdk/src/records/prepare.ts';
import { synthesizeBundles } from '../sdk/src/synth/generate.ts';
import { ANVIL_ACCOUNTS } from '../sdk/src/testing/anvil.ts';

const bundles = synthesizeBundles({ patients: 700, seed: 'bench' }).map((b) => JSON.stringify(b));
loadFhirDefinitions(); // once per process, outside both timings

let t = performance.now();
let count = 0;
for (const text of bundles) count += parseFhirInput(text).resources.length;
const parseRate = count / ((performance.now() - t) / 1000);

const dir = mkdtempSync(join(tmpdir(), 'consentry-import-bench-'));
try {
  const blobs = await createFsBlobStore(dir);
  const seal = createKeySealer(x25519.getPublicKey(randomBytes(32)));
  const patient = ANVIL_ACCOUNTS[1]!.address;
  t = performance.now();
  let imported = 0;
  // Like an importer: a bundle's resources in flight together, so the blob store's fsyncs overlap.
  for (const text of bundles) {
    const resources = parseFhirInput(text).resources;
    await Promise.all(resources.map(({ resource }) => prepareRecordVersion({ resource, patient, seal, blobs })));
    imported += resources.length;
  }
  const importRate = imported / ((performance.now() - t) / 1000);
  console.log(`records.parse_only_per_s: ${Math.round(parseRate)} resources/s`);
  console.log(`records.import_per_s: ${Math.round(importRate)} resources/s`);
  console.log(`records.import_resources: ${imported} resources`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
