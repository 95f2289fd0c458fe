// The indexer against a real anvil and a real PatientRegistry, on every store kind
// (SQLite file, PGlite, and PostgreSQL when TEST_DATABASE_URL is set).
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { encodeFunctionData, numberToHex, type Address } from 'viem';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../db/store.ts';
import { dumpEntities } from './dump.ts';
import { createIndexer, type Indexer } from './indexer.ts';
import { mineEmpty, mineScript, startTestChain, testKey, testPatient, type TestChain } from './testing/chain.ts';
import { expectedDump } from './testing/expected.ts';
import { storeKinds } from './testing/stores.ts';

let chain: TestChain;

beforeAll(async () => {
  chain = await startTestChain();
}, 30_000);

afterAll(async () => {
  await chain?.stop();
});

/** Waits until `predicate` holds (polling), failing after `timeoutMs`. */
async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(storeKinds())('indexer on $name', (kind) => {
  let registry: Address;
  let startBlock: number;
  let deployment: Awaited<ReturnType<TestChain['deploy']>>;
  const stores: Store[] = [];
  const indexers: Indexer[] = [];
  const patients = Array.from({ length: 12 }, (_, i) => testPatient(`${kind.name}-${i}`));

  async function openStore(): Promise<Store> {
    const store = await kind.open();
    stores.push(store);
    return store;
  }

  function indexer(store: Store, opts: { confirmations?: number; pageSize?: number; pollIntervalMs?: number } = {}) {
    const ix = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, ...opts });
    indexers.push(ix);
    return ix;
  }

  const expected = async (toBlock?: number) =>
    expectedDump(chain.client, registry, startBlock, toBlock ?? Number(await chain.client.getBlockNumber()));

  beforeAll(async () => {
    deployment = await chain.deploy();
    registry = deployment.contracts.PatientRegistry.address;
    startBlock = deployment.contracts.PatientRegistry.startBlock;
    // Registrations over three blocks, then rotations: twice in one block for different
    // patients, and the same patient rotating in consecutive blocks.
    await mineScript(chain, registry, [
      patients.slice(0, 5).map((p, i) => ({ kind: 'register', patient: p, key: testKey(`${kind.name}-k${i}`) })),
      patients.slice(5, 9).map((p, i) => ({ kind: 'register', patient: p, key: testKey(`${kind.name}-k${5 + i}`) })),
      [],
      patients.slice(9).map((p, i) => ({ kind: 'register', patient: p, key: testKey(`${kind.name}-k${9 + i}`) })),
      [
        { kind: 'rotate', patient: patients[0]!, key: testKey(`${kind.name}-r0a`) },
        { kind: 'rotate', patient: patients[3]!, key: testKey(`${kind.name}-r3a`) },
      ],
      [{ kind: 'rotate', patient: patients[0]!, key: testKey(`${kind.name}-r0b`) }],
      [],
      [{ kind: 'rotate', patient: patients[0]!, key: testKey(`${kind.name}-r0c`) }],
    ]);
  }, 60_000);

  afterEach(async () => {
    for (const ix of indexers.splice(0)) await ix.stop();
    for (const s of stores.splice(0)) await s.close();
  });

  afterAll(async () => {
    await kind.cleanup();
  });

  it('indexes a scripted history: the same entities as the chain says', async () => {
    const store = await openStore();
    const ix = indexer(store);
    const status = await ix.syncToHead();
    const head = Number(await chain.client.getBlockNumber());
    expect(status.checkpoint?.number).toBe(head);
    const dump = await dumpEntities(store);
    expect(dump).toEqual(await expected(head));
    expect(dump.Patient).toHaveLength(12);
    expect(dump.PatientRegistered).toHaveLength(12);
    expect(dump.EncryptionKeyRotated).toHaveLength(4);
    // The contract agrees on every key, and the patient who rotated three times shows it.
    for (const p of dump.Patient) {
      const key = await chain.client.readContract({
        address: registry,
        abi: patientRegistryAbi,
        functionName: 'encryptionKeyOf',
        args: [p.id as Address],
      });
      expect(p.encryptionKey).toBe(key.toLowerCase());
    }
    const p0 = dump.Patient.find((p) => p.id === patients[0]!.toLowerCase())!;
    expect(p0.keyRotations).toBe(3);
    expect(p0.encryptionKey).toBe(testKey(`${kind.name}-r0c`));
    expect(Number(p0.updatedAtBlock)).toBeGreaterThan(Number(p0.registeredAtBlock));
    expect(Number(p0.updatedAtTimestamp)).toBeGreaterThan(Number(p0.registeredAtTimestamp));
    // Ids: transaction hash ++ log index as a big-endian uint32.
    for (const e of [...dump.PatientRegistered, ...dump.EncryptionKeyRotated]) {
      expect(e.id).toBe(`${e.transactionHash}${Number(e.logIndex).toString(16).padStart(8, '0')}`);
      expect(e.id).toMatch(/^0x[0-9a-f]{72}$/);
    }
    expect(await store.count('PatientRegistered')).toBe(12);
  }, 60_000);

  it('stays CONFIRMATIONS blocks behind the head', async () => {
    const store = await openStore();
    const ix = indexer(store, { confirmations: 2 });
    const before = Number(await chain.client.getBlockNumber());
    expect((await ix.syncToHead()).checkpoint?.number).toBe(before - 2);
    const late = testPatient(`${kind.name}-late`);
    const [block] = await mineScript(chain, registry, [[{ kind: 'register', patient: late, key: testKey(`${kind.name}-late`) }]]);
    expect((await ix.syncToHead()).checkpoint?.number).toBe(block! - 2);
    expect(await store.findById('Patient', late.toLowerCase())).toBeNull();
    await mineEmpty(chain, 1);
    expect((await ix.syncToHead()).checkpoint?.number).toBe(block! - 1);
    expect(await store.findById('Patient', late.toLowerCase())).toBeNull();
    await mineEmpty(chain, 1);
    expect((await ix.syncToHead()).checkpoint?.number).toBe(block!);
    const row = await store.findById('Patient', late.toLowerCase());
    expect(row?.registeredAtBlock).toBe(BigInt(block!));
    expect(await dumpEntities(store)).toEqual(await expected(block!));
  }, 60_000);

  it('pages through the history (pageSize 2) to the same result', async () => {
    const store = await openStore();
    const ix = indexer(store, { pageSize: 2 });
    const status = await ix.syncToHead();
    const head = Number(await chain.client.getBlockNumber());
    expect(status.pages).toBeGreaterThanOrEqual(Math.ceil((head - startBlock + 1) / 2));
    expect(await dumpEntities(store)).toEqual(await expected(head));
  }, 60_000);

  it('resumes from its checkpoint with no gap and no duplicate', async () => {
    const store = await openStore();
    const head = Number(await chain.client.getBlockNumber());
    const middle = startBlock + 4;
    // Stop in the middle of the history (as if the head were there), then go on from it.
    const first = await indexer(store, { confirmations: head - middle, pageSize: 1 }).syncToHead();
    expect(first.checkpoint?.number).toBe(middle);
    expect(await dumpEntities(store)).toEqual(await expected(middle));
    const second = await indexer(store, { pageSize: 1 }).syncToHead();
    expect(second.checkpoint?.number).toBe(head);
    expect(second.pages).toBe(head - middle);
    expect(await dumpEntities(store)).toEqual(await expected(head));
  }, 60_000);

  it('follows a reorg made with evm_snapshot / evm_revert: rolls back and indexes the new branch', async () => {
    const store = await openStore();
    const ix = indexer(store, { pollIntervalMs: 50 });
    ix.start();
    const snapshot = await chain.rpc<string>('evm_snapshot');
    const orphan = testPatient(`${kind.name}-orphan`);
    const oldBranch = await mineScript(chain, registry, [
      [
        { kind: 'register', patient: orphan, key: testKey(`${kind.name}-orphan`) },
        { kind: 'rotate', patient: patients[1]!, key: testKey(`${kind.name}-old-r1`) },
      ],
      [{ kind: 'rotate', patient: patients[1]!, key: testKey(`${kind.name}-old-r1b`) }],
    ]);
    await ix.waitForBlock(oldBranch[1]!);
    expect(await store.findById('Patient', orphan.toLowerCase())).not.toBeNull();
    expect((await store.findById('Patient', patients[1]!.toLowerCase()))?.keyRotations).toBe(2);

    expect(await chain.rpc('evm_revert', [snapshot])).toBe(true);
    const newcomer = testPatient(`${kind.name}-newcomer`);
    const newBranch = await mineScript(chain, registry, [
      [{ kind: 'rotate', patient: patients[1]!, key: testKey(`${kind.name}-new-r1`) }],
      [{ kind: 'register', patient: newcomer, key: testKey(`${kind.name}-newcomer`) }],
      [],
    ]);
    const head = newBranch[2]!;
    expect(head).toBeGreaterThan(oldBranch[1]!);
    await until(async () => ix.status().checkpoint?.number === head && ix.status().reorgs >= 1);
    await ix.stop();

    expect(await store.findById('Patient', orphan.toLowerCase())).toBeNull();
    expect(await store.findById('Patient', newcomer.toLowerCase())).not.toBeNull();
    const p1 = await store.findById('Patient', patients[1]!.toLowerCase());
    expect(p1?.keyRotations).toBe(1);
    expect(p1?.encryptionKey).toBe(testKey(`${kind.name}-new-r1`));
    const dump = await dumpEntities(store);
    expect(dump).toEqual(await expected(head));
    // The same as indexing the final chain from scratch.
    const fresh = await openStore();
    await indexer(fresh).syncToHead();
    expect(await dumpEntities(fresh)).toEqual(dump);
  }, 60_000);

  it('follows a same-height reorg made with anvil_reorg', async () => {
    const store = await openStore();
    const ix = indexer(store, { pollIntervalMs: 50 });
    // Two funded anvil accounts: anvil_reorg replays transactions on the pre-reorg state.
    const [a, b] = [ANVIL_ACCOUNTS[9]!.address, patients[2]!];
    const registerA = { kind: 'register' as const, patient: a, key: testKey(`${kind.name}-acct`) };
    await mineScript(chain, registry, [[registerA]]);
    const [replaced] = await mineScript(chain, registry, [[{ kind: 'rotate', patient: b, key: testKey(`${kind.name}-gone`) }]]);
    ix.start();
    await ix.waitForBlock(replaced!);
    expect((await store.findById('Patient', b.toLowerCase()))?.encryptionKey).toBe(testKey(`${kind.name}-gone`));
    const hashBefore = ix.status().checkpoint?.hash;

    const rotateA = {
      from: a,
      to: registry,
      gas: numberToHex(120_000),
      data: encodeFunctionData({ abi: patientRegistryAbi, functionName: 'rotateEncryptionKey', args: [testKey(`${kind.name}-acct-2`)] }),
    };
    await chain.rpc('anvil_reorg', [1, [[rotateA, 0]]]);
    expect(Number(await chain.client.getBlockNumber())).toBe(replaced);
    await until(() => ix.status().reorgs >= 1 && ix.status().checkpoint?.number === replaced && ix.status().checkpoint?.hash !== hashBefore);
    await ix.stop();

    const patientB = await store.findById('Patient', b.toLowerCase());
    expect(patientB?.encryptionKey).not.toBe(testKey(`${kind.name}-gone`));
    const patientA = await store.findById('Patient', a.toLowerCase());
    expect(patientA?.encryptionKey).toBe(testKey(`${kind.name}-acct-2`));
    expect(patientA?.keyRotations).toBe(1);
    expect(await dumpEntities(store)).toEqual(await expected(replaced));
  }, 60_000);

  it('starts over when the store holds another deployment', async () => {
    const store = await openStore();
    await indexer(store).syncToHead();
    expect(await store.count('Patient')).toBeGreaterThan(0);
    const other = await chain.deploy();
    const fresh = createIndexer({ rpcUrl: chain.rpcUrl, deployment: other, store, confirmations: 0 });
    const status = await fresh.syncToHead();
    expect(status.checkpoint?.number).toBe(Number(await chain.client.getBlockNumber()));
    expect(await store.count('Patient')).toBe(0);
    expect((await store.readState())?.contractAddress).toBe(other.contracts.PatientRegistry.address.toLowerCase());
  }, 60_000);
});
