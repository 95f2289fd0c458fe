// The recovery actions against a real anvil with the deployed contracts: guardians named (at once the
// first time), a later change pending for 48 hours, withdrawn and proposed again, applied by anyone
// once due; a recovery started, cancelled by the controller (its approvals void), started again and
// completed; readRecoveryState and patientAccountOf tell each step; every refusal comes back decoded,
// in words, before a transaction is sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, type Address, type Hex, type PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { patientRegistryAbi } from '../abi/generated.ts';
import { ActionRefusedError } from '../access/actions.ts';
import { publicClientFor, walletClientFor } from '../clients.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import {
  applyGuardianChange,
  approveRecovery,
  cancelGuardianChange,
  cancelRecovery,
  completeRecovery,
  patientAccountOf,
  readRecoveryState,
  rotateEncryptionKey,
  setGuardians,
  startRecovery,
  type RecoveryActionContext,
} from './actions.ts';

const CHAIN = 31337;
let anvil: AnvilInstance;
let dir: string;
let registry: Address;
let client: PublicClient;
const [, patient, g1, g2, g3, g4, fresh, stranger] = ANVIL_ACCOUNTS.map((a) => a) as Array<(typeof ANVIL_ACCOUNTS)[number]>;
const ctx = (who: { privateKey: Hex }): RecoveryActionContext => ({ wallet: walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey), client, registry });
const key = () => bytesToHex(x25519.getPublicKey(randomBytes(32)));
const later = async (seconds: number) => {
  await client.request({ method: 'evm_increaseTime', params: [seconds] } as never);
  await client.request({ method: 'evm_mine', params: [] } as never);
};
const refusal = (p: Promise<unknown>) => p.then(() => 'sent', (e: unknown) => (e instanceof ActionRefusedError ? { errorName: e.errorName, message: e.message } : e));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-recovery-actions-'));
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: CHAIN, deploymentsDir: dir });
  registry = d.contracts.PatientRegistry.address;
  client = publicClientFor(anvil.rpcUrl, CHAIN) as PublicClient;
  const hash = await walletClientFor(anvil.rpcUrl, CHAIN, patient!.privateKey).writeContract({ address: registry, abi: patientRegistryAbi, functionName: 'register', args: [key()] });
  await client.waitForTransactionReceipt({ hash });
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('recovery actions (real chain)', () => {
  it('names guardians at once, then holds a change for 48 hours until anyone applies it', async () => {
    expect(await readRecoveryState(client, registry, stranger!.address)).toMatchObject({ controller: null, encryptionKey: null, guardians: [], threshold: 0 });
    expect(await refusal(setGuardians(ctx(patient!), { guardians: [g1!.address], threshold: 2 }))).toMatchObject({ errorName: 'PatientRegistry__InvalidGuardianCount', message: 'Name between 2 and 10 guardians (1 given)' });
    expect(await refusal(setGuardians(ctx(stranger!), { guardians: [g1!.address, g2!.address], threshold: 2 }))).toMatchObject({ errorName: 'PatientRegistry__NotController' });

    const first = await setGuardians(ctx(patient!), { guardians: [g1!.address, g2!.address, g3!.address], threshold: 2, recoveryDelaySeconds: 86_400 });
    expect(first.events.map((e) => e.eventName)).toEqual(['GuardiansChanged']);
    const proposed = await setGuardians(ctx(patient!), { guardians: [g1!.address, g4!.address], threshold: 2 });
    expect(proposed.events.map((e) => e.eventName)).toEqual(['GuardianChangeProposed']);
    const pending = await readRecoveryState(client, registry, patient!.address);
    expect(pending).toMatchObject({ guardians: [g1!.address, g2!.address, g3!.address], threshold: 2, recoveryDelay: 86_400, pendingChange: { guardians: [g1!.address, g4!.address], threshold: 2, recoveryDelay: 48 * 3600 } });
    expect(pending.pendingChange!.effectiveAt).toBe(proposed.blockTimestamp + 48n * 3600n);
    expect(await refusal(applyGuardianChange(ctx(stranger!), patient!.address))).toMatchObject({ errorName: 'PatientRegistry__GuardianChangeNotReady', message: expect.stringMatching(/only from \d{4}-/) });

    await cancelGuardianChange(ctx(patient!));
    expect((await readRecoveryState(client, registry, patient!.address)).pendingChange).toBeNull();
    expect(await refusal(cancelGuardianChange(ctx(patient!)))).toMatchObject({ errorName: 'PatientRegistry__NoPendingGuardianChange' });

    await setGuardians(ctx(patient!), { guardians: [g1!.address, g2!.address, g4!.address], threshold: 2 });
    await later(48 * 3600 + 1);
    await applyGuardianChange(ctx(stranger!), patient!.address);
    expect(await readRecoveryState(client, registry, patient!.address)).toMatchObject({ guardians: [g1!.address, g2!.address, g4!.address], threshold: 2, recoveryDelay: 48 * 3600, pendingChange: null });
  });

  it('a cancelled recovery voids its approvals; a completed one moves the account to the new wallet', async () => {
    const recoveryKey = key();
    expect(await refusal(startRecovery(ctx(g3!), { account: patient!.address, newController: fresh!.address, recoveryKey }))).toMatchObject({ errorName: 'PatientRegistry__NotGuardian' });
    const first = await startRecovery(ctx(g1!), { account: patient!.address, newController: fresh!.address, recoveryKey });
    expect(first.nonce).toBe(1n);
    expect(await refusal(cancelRecovery(ctx(g1!)))).toMatchObject({ errorName: 'PatientRegistry__NotController' });
    await cancelRecovery(ctx(patient!));
    expect(await readRecoveryState(client, registry, patient!.address)).toMatchObject({ controller: patient!.address, active: null, completed: null });
    expect(await refusal(approveRecovery(ctx(g2!), { account: patient!.address, nonce: 1n }))).toMatchObject({ errorName: 'PatientRegistry__NoActiveRecovery', message: 'This account has no recovery under way' });

    const second = await startRecovery(ctx(g2!), { account: patient!.address, newController: fresh!.address, recoveryKey });
    expect(second.nonce).toBe(2n);
    expect(await refusal(approveRecovery(ctx(g4!), { account: patient!.address, nonce: 1n }))).toMatchObject({ errorName: 'PatientRegistry__WrongRecovery' });
    const quorum = await approveRecovery(ctx(g4!), { account: patient!.address, nonce: 2n });
    expect(quorum.events.map((e) => e.eventName)).toEqual(['RecoveryApproved', 'RecoveryReady']);
    const active = (await readRecoveryState(client, registry, patient!.address)).active!;
    expect(active).toMatchObject({ nonce: 2n, newController: fresh!.address, recoveryKey, approvedBy: [g2!.address, g4!.address], approvalCount: 2, readyAt: quorum.blockTimestamp + 48n * 3600n });
    expect(await refusal(completeRecovery(ctx(stranger!), patient!.address))).toMatchObject({ errorName: 'PatientRegistry__RecoveryNotReady' });
    await later(48 * 3600);
    const done = await completeRecovery(ctx(stranger!), patient!.address);
    expect(done.events.map((e) => e.eventName)).toContain('AccountRecovered');

    const state = await readRecoveryState(client, registry, patient!.address);
    expect(state).toMatchObject({ controller: fresh!.address, active: null, completed: { nonce: 2n, previousController: patient!.address, newController: fresh!.address, recoveryKey, completedAt: done.blockTimestamp } });
    expect(await patientAccountOf(client, registry, fresh!.address)).toEqual({ account: patient!.address, controls: true, movedTo: null });
    expect(await patientAccountOf(client, registry, patient!.address)).toEqual({ account: patient!.address, controls: false, movedTo: fresh!.address });
    expect(await patientAccountOf(client, registry, stranger!.address)).toEqual({ account: stranger!.address, controls: false, movedTo: null });

    // The old wallet acts for nothing; the new one rotates the account's key to its recovery key.
    expect(await refusal(rotateEncryptionKey(ctx(patient!), key()))).toMatchObject({ errorName: 'PatientRegistry__NotController' });
    await rotateEncryptionKey(ctx(fresh!), recoveryKey);
    expect((await readRecoveryState(client, registry, patient!.address)).encryptionKey).toBe(recoveryKey);
  });
});
