/**
 * Sealing throughput of record versions, against raw AEAD on the same bytes.
 *   records.seal_per_s       encryptRecord (fresh DEK, AD binding) + sealing the DEK to the patient with a
 *                            batched sealer (one X25519 agreement per 256 keys), as an import does
 *   records.seal_single_per_s  the same with one X25519 agreement per key (sealKey)
 *   records.aead_baseline_per_s   XChaCha20-Poly1305 alone under one key, same plaintexts
 *   records.seal_vs_aead_pct      the first as a share of the second
 * Plaintexts: canonical JSON of synthetic Observations (~400 bytes each, like a lab result).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { createKeySealer, encryptRecord, sealKey } from '../sdk/src/crypto/envelope.ts';

const COUNT = 5000;
const plaintexts = Array.from({ length: COUNT }, (_, i) =>
  new TextEncoder().encode(
    JSON.stringify({
      resourceType: 'Observation',
      id: `synthetic-obs-${i}`,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }] },
      subject: { reference: 'Patient/synthetic-1' },
      effectiveDateTime: '2025-03-01T09:30:00Z',
      valueQuantity: { value: 5 + (i % 40) / 10, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    }),
  ),
);
const recipient = x25519.getPublicKey(randomBytes(32));

function rate(run: () => void): number {
  run(); // warm-up
  const start = process.hrtime.bigint();
  run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return COUNT / seconds;
}

const sealRate = rate(() => {
  const seal = createKeySealer(recipient);
  for (let i = 0; i < COUNT; i++) {
    const { dek } = encryptRecord({ plaintext: plaintexts[i]!, recordId: `r${i}`, version: 1, category: 'labs' });
    seal(dek);
  }
});
const singleRate = rate(() => {
  for (let i = 0; i < COUNT; i++) {
    const { dek } = encryptRecord({ plaintext: plaintexts[i]!, recordId: `r${i}`, version: 1, category: 'labs' });
    sealKey(dek, recipient);
  }
});
const key = randomBytes(32);
const aeadRate = rate(() => {
  for (let i = 0; i < COUNT; i++) xchacha20poly1305(key, randomBytes(24)).encrypt(plaintexts[i]!);
});

console.log(`records.seal_per_s: ${Math.round(sealRate)} records/s`);
console.log(`records.seal_single_per_s: ${Math.round(singleRate)} records/s`);
console.log(`records.aead_baseline_per_s: ${Math.round(aeadRate)} records/s`);
console.log(`records.seal_vs_aead_pct: ${((100 * sealRate) / aeadRate).toFixed(1)} %`);
