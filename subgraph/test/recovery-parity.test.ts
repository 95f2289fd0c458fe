// Parity for guardian recovery (issue 9): one scripted history on a real anvil with the deployed
// contracts — a patient names three guardians (2 of 3, one day's delay); guardian 1 starts a
// recovery to wallet W1, guardian 2 approves (quorum), the patient cancels it; the patient proposes
// new guardians and withdraws the proposal, then proposes again; guardian 2 starts a recovery to
// W2, guardian 3 approves, the wait passes and a stranger completes it (dropping the pending
// proposal); W2 then rotates the account's key — indexed by the subgraph's compiled WASM mappings
// (the test host on the recorded logs) and by the embedded indexer (SQLite and PGlite). Both must
// give the same entities: AccessEvents of the account for every guardian and recovery event, and a
// Patient whose controller moved to W2; and both must agree with the chain. A reorg that drops a
// later completed recovery puts the controller back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, encodeFunctionData, keccak256, toHex, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts, type DeployResult } from '../../contracts/script/deploy.ts';
import { openPgliteStore, openSqliteStore, type Store } from '../../workers/src/db/open.ts';
import { dumpEntities } from '../../workers/src/indexer/dump.ts';
import { createIndexer } from '../../workers/src/indexer/indexer.ts';
import { indexWith as indexWithStore } from './index-with.ts';
import { ensureSubgraphBuilt, MappingHost, type EntityDump } from './host/index.ts';
import { recordLogs } from './host/record.ts';

const CHAIN = 31337;
const DAY = 86_400;
const ZERO = `0x${'00'.repeat(20)}`;
const acct = (i: number) => ANVIL_ACCOUNTS[i]!;
const [deployer, patient, g1, g2, g3, w1, w2, stranger, g4] = [acct(0), acct(1), acct(2), acct(3), acct(4), acct(5), acct(6), acct(7), acct(8)];
const lower = (a: string) => a.toLowerCase();
const keyFor = (label: string): Hex =>
  deriveEncryptionKeyPair(concat([keccak256(toHex(`recovery-parity:${label}`)), keccak256(toHex(`recovery-parity:${label}:s`)), '0x1b']))
    .publicKeyHex;

let anvil: AnvilInstance;
let tmp: string;
let deployment: DeployResult;
let registry: Address;
let head: number;
let mappingDump: EntityDump;
/** readyAt of each recovery, read from the chain while it was active. */
const readyAt = new Map<bigint, bigint>();

const client = () => publicClientFor(anvil.rpcUrl, CHAIN);

type RegistryCall =
  | { functionName: 'register'; args: readonly [Hex] }
  | { functionName: 'rotateEncryptionKey'; args: readonly [Hex] }
  | { functionName: 'setGuardians'; args: readonly [readonly Address[], number, number] }
  | { functionName: 'cancelGuardianChange'; args: readonly [] }
  | { functionName: 'startRecovery'; args: readonly [Address, Address, Hex] }
  | { functionName: 'approveRecovery'; args: readonly [Address, bigint] }
  | { functionName: 'cancelRecovery'; args: readonly [] }
  | { functionName: 'completeRecovery'; args: readonly [Address] };

async function write(who: { privateKey: Hex }, call: RegistryCall): Promise<void> {
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey);
  const data = encodeFunctionData({ abi: patientRegistryAbi, ...call } as Parameters<typeof encodeFunctionData>[0]);
  const hash = await wallet.sendTransaction({ to: registry, data, gas: 1_000_000n, chain: null });
  if ((await client().waitForTransactionReceipt({ hash })).status !== 'success') throw new Error(`${call.functionName} reverted`);
}

async function rememberReadyAt(): Promise<void> {
  const r = await client().readContract({ address: registry, abi: patientRegistryAbi, functionName: 'recoveryOf', args: [patient.address] });
  readyAt.set(r.nonce, r.readyAt);
}

const indexWith = (open: () => Promise<Store>): Promise<EntityDump> => indexWithStore(open, { rpcUrl: anvil.rpcUrl, deployment, confirmations: 0, pageSize: 3 }, head);

beforeAll(async () => {
  const built = ensureSubgraphBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'consentry-recovery-parity-'));
  anvil = await startAnvil();
  deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: join(tmp, 'deployments') });
  registry = deployment.contracts.PatientRegistry.address;
  const account = patient.address;

  await write(patient, { functionName: 'register', args: [keyFor('patient')] });
  await write(patient, { functionName: 'setGuardians', args: [[g1.address, g2.address, g3.address], 2, DAY] });
  // Recovery 1: started, reaches its quorum, cancelled by the patient.
  await write(g1, { functionName: 'startRecovery', args: [account, w1.address, keyFor('w1')] });
  await write(g2, { functionName: 'approveRecovery', args: [account, 1n] });
  await rememberReadyAt();
  await write(patient, { functionName: 'cancelRecovery', args: [] });
  // A guardian change proposed and withdrawn, then proposed again.
  await write(patient, { functionName: 'setGuardians', args: [[g1.address, g4.address], 2, 2 * DAY] });
  await write(patient, { functionName: 'cancelGuardianChange', args: [] });
  await write(patient, { functionName: 'setGuardians', args: [[g2.address, g4.address], 2, 3 * DAY] });
  // Recovery 2: started again to another wallet, approved, completed by a stranger after the wait.
  await write(g2, { functionName: 'startRecovery', args: [account, w2.address, keyFor('w2')] });
  await write(g3, { functionName: 'approveRecovery', args: [account, 2n] });
  await rememberReadyAt();
  await client().request({ method: 'evm_increaseTime' as never, params: [DAY + 1] as never });
  await client().request({ method: 'evm_mine' as never, params: [] as never });
  await write(stranger, { functionName: 'completeRecovery', args: [account] });
  // The new wallet acts for the account.
  await write(w2, { functionName: 'rotateEncryptionKey', args: [keyFor('w2')] });
  head = Number(await client().getBlockNumber());

  const recorded = await recordLogs(anvil.rpcUrl, { fromBlock: deployment.startBlock, toBlock: head });
  await built;
  mappingDump = new MappingHost({ sources: { PatientRegistry: deployment.contracts.PatientRegistry } })
    .run(recorded)
    .dump();
}, 240_000);

afterAll(async () => {
  await anvil?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('guardian recovery: subgraph mappings vs embedded indexer on one scripted history', () => {
  it('the mappings write every guardian and recovery event to the account, in order', () => {
    const events = [...mappingDump.AccessEvent!].sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex));
    const account = lower(patient.address);
    expect(events.every((e) => e.patient === account)).toBe(true);
    const row = (e: (typeof events)[number]) => [e.kind, e.organization, e.actor, e.requestId];
    expect(events.map(row)).toEqual([
      ['GUARDIANS_CHANGED', ZERO, ZERO, null],
      ['RECOVERY_STARTED', lower(w1.address), lower(g1.address), '1'],
      ['RECOVERY_APPROVED', lower(g2.address), lower(g2.address), '1'],
      ['RECOVERY_READY', ZERO, ZERO, '1'],
      ['RECOVERY_CANCELLED', account, account, '1'],
      ['GUARDIAN_CHANGE_PROPOSED', ZERO, ZERO, null],
      ['GUARDIAN_CHANGE_CANCELLED', ZERO, ZERO, null],
      ['GUARDIAN_CHANGE_PROPOSED', ZERO, ZERO, null],
      ['RECOVERY_STARTED', lower(w2.address), lower(g2.address), '2'],
      ['RECOVERY_APPROVED', lower(g3.address), lower(g3.address), '2'],
      ['RECOVERY_READY', ZERO, ZERO, '2'],
      // Completing drops the pending guardian change (the lost wallet's) first.
      ['GUARDIAN_CHANGE_CANCELLED', ZERO, ZERO, null],
      ['ACCOUNT_RECOVERED', lower(w2.address), account, '2'],
    ]);
    const ready = events.filter((e) => e.kind === 'RECOVERY_READY').map((e) => e.expiresAt);
    expect(ready).toEqual([String(readyAt.get(1n)), String(readyAt.get(2n))]);
    expect(events.filter((e) => e.kind === 'GUARDIANS_CHANGED' || e.kind === 'GUARDIAN_CHANGE_PROPOSED').map((e) => e.duration)).toEqual([
      String(DAY),
      String(2 * DAY),
      String(3 * DAY),
    ]);
    const proposed = events.filter((e) => e.kind === 'GUARDIAN_CHANGE_PROPOSED');
    // Proposals take effect 48 hours after they are made.
    for (const p of proposed) expect(BigInt(p.expiresAt as string) - BigInt(p.blockTimestamp as string)).toBe(2n * BigInt(DAY));
    // Only the inbox fields a recovery needs: no categories, purpose or reason.
    expect(events.every((e) => e.categories === null && e.purpose === null && e.reasonHash === null)).toBe(true);
  });

  it('the Patient follows the account: its controller moved to the new wallet, its key rotated by it', async () => {
    expect(mappingDump.Patient).toEqual([
      expect.objectContaining({ id: lower(patient.address), controller: lower(w2.address), encryptionKey: lower(keyFor('w2')), keyRotations: 1 }),
    ]);
    expect(mappingDump.EncryptionKeyRotated).toEqual([expect.objectContaining({ patient: lower(patient.address) })]);
    const controller = await client().readContract({ address: registry, abi: patientRegistryAbi, functionName: 'controllerOf', args: [patient.address] });
    const key = await client().readContract({ address: registry, abi: patientRegistryAbi, functionName: 'encryptionKeyOf', args: [patient.address] });
    expect(lower(controller)).toBe(mappingDump.Patient![0]!.controller);
    expect(lower(key)).toBe(mappingDump.Patient![0]!.encryptionKey);
    const completed = await client().readContract({ address: registry, abi: patientRegistryAbi, functionName: 'completedRecovery', args: [patient.address] });
    const recovered = mappingDump.AccessEvent!.find((e) => e.kind === 'ACCOUNT_RECOVERED')!;
    expect([recovered.requestId, recovered.actor, recovered.organization]).toEqual([
      String(completed.nonce),
      lower(completed.previousController),
      lower(completed.newController),
    ]);
  });

  it('the embedded indexer (SQLite) gives exactly the same entities', async () => {
    expect(await indexWith(() => openSqliteStore(join(tmp, 'indexer.sqlite')))).toEqual(mappingDump);
  });

  it('the embedded indexer (PGlite) gives exactly the same entities', async () => {
    expect(await indexWith(() => openPgliteStore())).toEqual(mappingDump);
  });

  it('a reorg that drops a completed recovery puts the controller back and drops its events', async () => {
    const store = await openSqliteStore(join(tmp, 'reorg.sqlite'));
    try {
      const indexer = createIndexer({ rpcUrl: anvil.rpcUrl, deployment, store, confirmations: 0 });
      await indexer.syncToHead();
      const before = await dumpEntities(store);
      expect(before).toEqual(mappingDump);

      // On a branch that will be dropped: a third recovery, to W1, completes.
      const snapshot = await client().request({ method: 'evm_snapshot' as never, params: [] as never });
      await write(g1, { functionName: 'startRecovery', args: [patient.address, w1.address, keyFor('w1')] });
      await write(g3, { functionName: 'approveRecovery', args: [patient.address, 3n] });
      await client().request({ method: 'evm_increaseTime' as never, params: [DAY + 1] as never });
      await write(stranger, { functionName: 'completeRecovery', args: [patient.address] });
      await indexer.syncToHead();
      expect(await store.findById('Patient', lower(patient.address))).toMatchObject({ controller: lower(w1.address) });
      expect(await store.count('AccessEvent')).toBe(before.AccessEvent.length + 4);

      expect(await client().request({ method: 'evm_revert' as never, params: [snapshot] as never })).toBe(true);
      await client().request({ method: 'anvil_mine' as never, params: ['0x8'] as never }); // a longer branch without it
      const status = await indexer.syncToHead();
      expect(status.reorgs).toBeGreaterThanOrEqual(1);
      expect(await dumpEntities(store)).toEqual(before);
      expect(await store.findById('Patient', lower(patient.address))).toMatchObject({ controller: lower(w2.address) });
    } finally {
      await store.close();
    }
  });
});
