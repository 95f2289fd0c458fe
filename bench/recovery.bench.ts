/**
 * Key loss and recovery (decision 031): what a recovery costs on chain and how fast a rotation
 * reseals a patient's data keys.
 *   recovery.reseal_per_s             versions resealed per second by resealVersions (open with the old
 *                                     key, seal to the new, check it opens), 5,000 versions, batches of 500
 *   recovery.baseline_open_only_per_s the same versions only opened with the old key (the floor of any rotation)
 *   recovery.combine_ms               a new wallet opens and combines 2-of-3 released shares (honest)
 *   recovery.combine_forged_ms        the same with 5-of-10 and one guardian's share forged (every 5-subset tried)
 *   recovery.set_guardians_gas        first guardian set, 3 guardians, t = 2
 *   recovery.start_gas / approve_gas / complete_gas / cancel_gas   the recovery's transactions
 *   recovery.baseline_rotate_key_gas  PatientRegistry.rotateEncryptionKey (one slot rewritten, one event)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAddress, generatePrivateKey } from 'viem/accounts';
import { deployContracts } from '../contracts/script/deploy.ts';
import { patientRegistryAbi } from '../sdk/src/abi/generated.ts';
import { publicClientFor, walletClientFor } from '../sdk/src/clients.ts';
import { createKeyOpener, createKeySealer } from '../sdk/src/crypto/envelope.ts';
import { fromBase64, toBase64 } from '../sdk/src/records/versions.ts';
import { recoverSecretFromReleased, releaseBackupShare, splitKeyBackup, type RecoveryTerms } from '../sdk/src/recovery/backup.ts';
import { resealVersions } from '../sdk/src/recovery/rotation.ts';
import { ANVIL_ACCOUNTS, startAnvil } from '../sdk/src/testing/anvil.ts';

const pair = () => {
  const secretKey = randomBytes(32);
  const publicKey = x25519.getPublicKey(secretKey);
  return { secretKey, publicKey, publicKeyHex: bytesToHex(publicKey) };
};

// --- Rotation throughput -------------------------------------------------------------------------
const N = 5000;
const oldKey = pair();
const newKey = pair();
// Sealed as an import seals them: one ephemeral key agreement per 256 keys (createKeySealer's batch).
const sealOld = createKeySealer(oldKey.publicKey);
const versions = Array.from({ length: N }, (_, i) => ({ recordId: `r${i}`, version: 1, sealedKey: toBase64(sealOld(randomBytes(32))) }));
let t = performance.now();
const open = createKeyOpener(oldKey.secretKey);
for (const v of versions) open(fromBase64(v.sealedKey));
const openOnly = N / ((performance.now() - t) / 1000);
t = performance.now();
let saved = 0;
await resealVersions({ versions, oldSecretKeys: [oldKey.secretKey], newKeyPair: newKey, batchSize: 500, save: async (b) => void (saved += b.length) });
const reseal = N / ((performance.now() - t) / 1000);
if (saved !== N) throw new Error(`resealed ${saved} of ${N}`);
console.log(`recovery.reseal_per_s: ${reseal.toFixed(0)} versions/s`);
console.log(`recovery.baseline_open_only_per_s: ${openOnly.toFixed(0)} versions/s`);

// --- Combining released shares --------------------------------------------------------------------
async function combineMs(m: number, threshold: number, forged: boolean): Promise<number> {
  const addresses = Array.from({ length: m }, () => privateKeyToAddress(generatePrivateKey()));
  const patient = pair();
  const guardians = addresses.map((address) => ({ address, ...pair() }));
  const backup = await splitKeyBackup({ secretKey: patient.secretKey, account: ANVIL_ACCOUNTS[0]!.address as Address, guardians, threshold });
  const recovery = pair();
  const terms: RecoveryTerms = { account: ANVIL_ACCOUNTS[0]!.address as Address, nonce: 1n, newController: privateKeyToAddress(generatePrivateKey()), recoveryKey: recovery.publicKeyHex };
  const released = backup.shares.slice(0, threshold + (forged ? 1 : 0)).map((s, i) => releaseBackupShare({ sealedShare: s.sealedShare, guardianSecretKey: guardians[i]!.secretKey, recovery: terms }));
  if (forged) {
    // The first guardian lies: the honest header, a random share value, sealed so it authenticates.
    const header = released[0]!.subarray(0, released[0]!.length - 105);
    released[0] = concatBytes(header, createKeySealer(recovery.publicKey)(randomBytes(32), concatBytes(new TextEncoder().encode('consentry/key-backup-release/v1'), header)));
  }
  const start = performance.now();
  const secret = await recoverSecretFromReleased({ released, recoverySecretKey: recovery.secretKey, recovery: terms, expectedPublicKey: bytesToHex(patient.publicKey) });
  const ms = performance.now() - start;
  if (bytesToHex(secret) !== bytesToHex(patient.secretKey)) throw new Error('combined the wrong secret');
  return ms;
}
await combineMs(3, 2, false); // warm
console.log(`recovery.combine_ms: ${(await combineMs(3, 2, false)).toFixed(1)} ms`);
console.log(`recovery.combine_forged_ms: ${(await combineMs(10, 5, true)).toFixed(1)} ms`);

// --- Gas ----------------------------------------------------------------------------------------------
const anvil = await startAnvil();
const dir = mkdtempSync(join(tmpdir(), 'consentry-recovery-bench-'));
try {
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: 31337, deploymentsDir: dir });
  const registry = deployment.contracts.PatientRegistry.address;
  const client = publicClientFor(anvil.rpcUrl, 31337);
  const send = async (from: number, functionName: string, args: readonly unknown[]) => {
    const wallet = walletClientFor(anvil.rpcUrl, 31337, ANVIL_ACCOUNTS[from]!.privateKey);
    const hash = await wallet.writeContract({ address: registry, abi: patientRegistryAbi as Abi, functionName, args, gas: 1_000_000n });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${functionName} reverted (${hash})`);
    return Number(receipt.gasUsed);
  };
  const at = (i: number) => ANVIL_ACCOUNTS[i]!.address as Address;
  const key = (): Hex => pair().publicKeyHex;
  const increase = async (seconds: number) => {
    await client.request({ method: 'evm_increaseTime' as never, params: [seconds] as never });
    await client.request({ method: 'evm_mine' as never, params: [] as never });
  };
  // Patients 1 and 2, guardians 3, 4, 5 (registered keys), new wallets 6 and 7.
  for (const i of [1, 2, 3, 4, 5]) await send(i, 'register', [key()]);
  const rotate = await send(2, 'rotateEncryptionKey', [key()]);
  const setGuardians = await send(1, 'setGuardians', [[at(3), at(4), at(5)], 2, 48 * 3600]);
  await send(2, 'setGuardians', [[at(3), at(4), at(5)], 2, 48 * 3600]);
  // A cancelled recovery of patient 2 first.
  await send(3, 'startRecovery', [at(2), at(7), key()]);
  const cancel = await send(2, 'cancelRecovery', []);
  const start = await send(3, 'startRecovery', [at(1), at(6), key()]);
  const nonce = ((await client.readContract({ address: registry, abi: patientRegistryAbi as Abi, functionName: 'recoveryOf', args: [at(1)] })) as { nonce: bigint }).nonce;
  const approve = await send(4, 'approveRecovery', [at(1), nonce]);
  await increase(48 * 3600 + 1);
  const complete = await send(6, 'completeRecovery', [at(1)]);
  console.log(`recovery.set_guardians_gas: ${setGuardians} gas`);
  console.log(`recovery.start_gas: ${start} gas`);
  console.log(`recovery.approve_gas: ${approve} gas`);
  console.log(`recovery.complete_gas: ${complete} gas`);
  console.log(`recovery.cancel_gas: ${cancel} gas`);
  console.log(`recovery.baseline_rotate_key_gas: ${rotate} gas`);
} finally {
  await anvil.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
