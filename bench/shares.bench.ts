/**
 * Splitting data keys to the release committee, against sealing each key to one recipient.
 *   shares.split_seal_per_s                  DEKs split 2-of-3 (shamir-secret-sharing) and each share sealed to
 *                                            its member with the header bound (createDataKeySplitter: one batched
 *                                            sealer per member), as a client does for every record it stores
 *   records.seal_per_s_single_recipient      the baseline: each DEK sealed once, to one key (createKeySealer,
 *                                            batched the same way), as for the patient's copy
 *   shares.split_only_per_s                  the Shamir split alone (no sealing), to show where the time goes
 *   shares.combine_per_s                     recovering a DEK from 2 opened shares (checks + commitment)
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { split } from 'shamir-secret-sharing';
import { createKeySealer } from '../sdk/src/crypto/envelope.ts';
import { combineShares, createDataKeySplitter, openShare, type Committee } from '../sdk/src/crypto/shares.ts';

const COUNT = 5000;
const deks = Array.from({ length: COUNT }, () => randomBytes(32));
const record = (i: number) => ({ recordId: `0x${i.toString(16).padStart(64, '0')}`, version: 1 });
const secrets = [0, 1, 2].map(() => randomBytes(32));
const committee: Committee = {
  epoch: 1,
  threshold: 2,
  members: secrets.map((s, i) => ({ id: `0x${String(i + 1).padStart(40, '0')}`, publicKey: x25519.getPublicKey(s) })),
};
const recipient = x25519.getPublicKey(randomBytes(32));

async function rate(run: () => Promise<void> | void): Promise<number> {
  await run(); // warm-up
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return COUNT / seconds;
}

const splitSealRate = await rate(async () => {
  const splitter = createDataKeySplitter(committee);
  for (let i = 0; i < COUNT; i++) await splitter(deks[i]!, record(i));
});
const singleRate = await rate(() => {
  const seal = createKeySealer(recipient);
  for (let i = 0; i < COUNT; i++) seal(deks[i]!);
});
const splitOnlyRate = await rate(async () => {
  for (let i = 0; i < COUNT; i++) await split(deks[i]!, 3, 2);
});
const shares = await createDataKeySplitter(committee)(deks[0]!, record(0));
const opened = [openShare(shares[0]!.sealed, secrets[0]!), openShare(shares[2]!.sealed, secrets[2]!)];
const combineRate = await rate(async () => {
  for (let i = 0; i < COUNT; i++) await combineShares(opened, { threshold: 2, epoch: 1 });
});

console.log(`shares.split_seal_per_s: ${Math.round(splitSealRate)} keys/s`);
console.log(`records.seal_per_s_single_recipient: ${Math.round(singleRate)} keys/s`);
console.log(`shares.split_only_per_s: ${Math.round(splitOnlyRate)} keys/s`);
console.log(`shares.combine_per_s: ${Math.round(combineRate)} keys/s`);
