// Parity: one scripted chain history, indexed twice — by the subgraph's compiled WASM mappings
// (run by the test host on the recorded logs) and by the embedded indexer (workers/src/indexer,
// following the same anvil) — must give the same entities. The chain's own view (the registry's
// and the anchor's getters) checks both. The history registers and rotates keys, and anchors
// record batches (by the anchorer, two in one block, one whose manifest is missing, one whose
// manifest is another batch's, one on an unrelated RecordAnchor); the mappings get manifests from
// the same blob store the indexer reads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  concat,
  createTestClient,
  encodeFunctionData,
  http,
  keccak256,
  toHex,
  type Address,
  type Hash,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { patientRegistryAbi, recordAnchorAbi } from '@consentry/sdk/abi/generated';
import { buildBatch, type RecordLeaf } from '@consentry/sdk/anchor/leaf';
import { buildBatchManifest, manifestDigest } from '@consentry/sdk/anchor/manifest';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { syntheticLeaf } from '@consentry/sdk/testing/leaves';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { deriveEncryptionKeyPair } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts, type DeployResult } from '../../contracts/script/deploy.ts';
import { openPgliteStore, openSqliteStore, type Store } from '../../workers/src/db/open.ts';
import { dumpEntities } from '../../workers/src/indexer/dump.ts';
import { createIndexer } from '../../workers/src/indexer/indexer.ts';
import { createAnchorer } from '../../workers/src/anchorer/anchorer.ts';
import { ensureSubgraphBuilt, MappingHost, type EntityDump, type RecordedLog } from './host/index.ts';
import { recordLogs } from './host/record.ts';

const CHAIN_ID = 31337;
const deployer = ANVIL_ACCOUNTS[0]!;
/** Patients are anvil accounts 1..5; account 6 registers on a second, unrelated registry. */
const patients = ANVIL_ACCOUNTS.slice(1, 6);
const outsider = ANVIL_ACCOUNTS[6]!;
const GAS = 200_000n;

/**
 * A real X25519 public key per label (the registry refuses non-canonical and low-order ones),
 * derived as the app derives a patient's key, from 65 signature-shaped bytes.
 */
const keyFor = (label: string): Hex =>
  deriveEncryptionKeyPair(concat([keccak256(toHex(`parity:${label}`)), keccak256(toHex(`parity:${label}:s`)), '0x1b']))
    .publicKeyHex;

let anvil: AnvilInstance;
let tmp: string;
let deployment: DeployResult;
let otherRegistry: Address;
let otherAnchor: Address;
let blobs: BlobStore;
/** Every blob put in the store, by CID: what the host's file data sources can fetch. */
const stored = new Map<string, Uint8Array>();
/** Roots of the batches anchored on the deployment's RecordAnchor, by how their manifest fares. */
const anchored = { valid: [] as Hex[], missing: [] as Hex[], invalid: [] as Hex[] };
let anchoredVersions = 0;
let recorded: RecordedLog[];
let mappingDump: EntityDump;
let host: MappingHost;
let head: number;
const reverted: Hash[] = [];

function clients() {
  const publicClient = publicClientFor(anvil.rpcUrl, CHAIN_ID, { retryCount: 0 });
  const test = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) });
  return { publicClient, test };
}

/** Sends a registry call from `privateKey` without gas estimation (so it can revert on chain, or sit in a batch). */
async function send(privateKey: Hex, to: Address, data: Hex): Promise<Hash> {
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN_ID, privateKey);
  return wallet.sendTransaction({ to, data, gas: GAS });
}

const anchorCall = (root: Hex, leafCount: number, manifest: Hex) =>
  encodeFunctionData({ abi: recordAnchorAbi, functionName: 'anchor', args: [root, leafCount, manifest] });
let serial = 0;
const leavesOf = (n: number): RecordLeaf[] =>
  Array.from({ length: n }, () => syntheticLeaf(patients[serial % patients.length]!.address, ++serial, { version: 1 + (serial % 3) }));

async function put(bytes: Uint8Array): Promise<string> {
  const cid = await blobs.put(bytes);
  stored.set(cid, bytes);
  return cid;
}

/** The anchoring part of the history: see the file header. */
async function scriptAnchors(anchor: Address): Promise<void> {
  const submitter = patients[0]!.privateKey;
  // The anchorer: 5 leaves in batches of 3 (two transactions, two blocks).
  const anchorer = createAnchorer({
    rpcUrl: anvil.rpcUrl,
    privateKey: ANVIL_ACCOUNTS[7]!.privateKey,
    deployment,
    blobs,
    maxBatch: 3,
    maxAgeMs: 0,
    onAnchored: async (batch) => {
      stored.set(batch.manifestCid, await blobs.get(batch.manifestCid));
      anchored.valid.push(batch.root);
      anchoredVersions += batch.leaves.length;
    },
  });
  for (const l of leavesOf(5)) anchorer.enqueue(l);
  await anchorer.flush();
  await anchorer.stop();
  expect(anchored.valid).toHaveLength(2);
  // Two batches in one block, by a patient's client.
  const a = leavesOf(2);
  const b = leavesOf(4);
  const ma = buildBatchManifest(a, buildBatch(a));
  const mb = buildBatchManifest(b, buildBatch(b));
  await put(ma.bytes);
  await put(mb.bytes);
  await inOneBlock([
    [submitter, anchor, anchorCall(ma.json.root, 2, ma.digest)],
    [ANVIL_ACCOUNTS[7]!.privateKey, anchor, anchorCall(mb.json.root, 4, mb.digest)],
  ]);
  anchored.valid.push(ma.json.root, mb.json.root);
  anchoredVersions += 6;
  // A manifest never stored.
  const c = leavesOf(3);
  const mc = buildBatchManifest(c, buildBatch(c));
  expect(await mined(submitter, anchor, anchorCall(mc.json.root, 3, mc.digest))).toBe('success');
  anchored.missing.push(mc.json.root);
  // Another batch's manifest, stored, named by this batch.
  const d = leavesOf(2);
  const e = leavesOf(2);
  const me = buildBatchManifest(e, buildBatch(e));
  await put(me.bytes);
  expect(await mined(submitter, anchor, anchorCall(buildBatch(d).root, 2, manifestDigest(me.bytes)))).toBe('success');
  anchored.invalid.push(buildBatch(d).root);
  // A valid batch on an unrelated RecordAnchor: ignored by both.
  const f = leavesOf(2);
  const mf = buildBatchManifest(f, buildBatch(f));
  await put(mf.bytes);
  expect(await mined(submitter, otherAnchor, anchorCall(mf.json.root, 2, mf.digest))).toBe('success');
}

const register = (key: Hex) => encodeFunctionData({ abi: patientRegistryAbi, functionName: 'register', args: [key] });
const rotate = (key: Hex) => encodeFunctionData({ abi: patientRegistryAbi, functionName: 'rotateEncryptionKey', args: [key] });

/** One block per call (automine). */
async function mined(privateKey: Hex, to: Address, data: Hex): Promise<'success' | 'reverted'> {
  const hash = await send(privateKey, to, data);
  const receipt = await clients().publicClient.waitForTransactionReceipt({ hash, timeout: 20_000 });
  if (receipt.status === 'reverted') reverted.push(hash);
  return receipt.status;
}

/** Several calls in one block: automine off, send in order, mine one block. */
async function inOneBlock(calls: Array<[Hex, Address, Hex]>): Promise<void> {
  const { publicClient, test } = clients();
  await test.setAutomine(false);
  const nonces = new Map<Hex, number>();
  const hashes: Hash[] = [];
  for (const [privateKey, to, data] of calls) {
    const from = privateKeyToAccount(privateKey).address;
    const nonce = nonces.get(privateKey) ?? (await publicClient.getTransactionCount({ address: from, blockTag: 'pending' }));
    nonces.set(privateKey, nonce + 1);
    const wallet = walletClientFor(anvil.rpcUrl, CHAIN_ID, privateKey);
    hashes.push(await wallet.sendTransaction({ to, data, gas: GAS, nonce }));
  }
  await test.mine({ blocks: 1 });
  await test.setAutomine(true);
  const receipts = await Promise.all(hashes.map((hash) => publicClient.waitForTransactionReceipt({ hash, timeout: 20_000 })));
  const blocks = new Set(receipts.map((r) => r.blockNumber));
  if (blocks.size !== 1) throw new Error(`the batch landed in ${blocks.size} blocks`);
  for (const r of receipts) if (r.status !== 'success') throw new Error(`a batched call reverted (${r.transactionHash})`);
}

/** The scripted history; returns the keys each patient should end with. */
async function scriptHistory(registry: Address): Promise<void> {
  const [p1, p2, p3, p4, p5] = patients.map((p) => p.privateKey) as [Hex, Hex, Hex, Hex, Hex];
  expect(await mined(p1, registry, register(keyFor('p1-0')))).toBe('success');
  expect(await mined(p2, registry, register(keyFor('p2-0')))).toBe('success');
  // A duplicate registration reverts on chain: no log, nothing indexed.
  expect(await mined(p1, registry, register(keyFor('p1-dup')))).toBe('reverted');
  await inOneBlock([
    [p3, registry, register(keyFor('p3-0'))],
    [p4, registry, register(keyFor('p4-0'))],
    [p1, registry, rotate(keyFor('p1-1'))],
    [p3, registry, rotate(keyFor('p3-1'))], // registers and rotates in the same block
  ]);
  // A registration on another registry must be ignored by both.
  expect(await mined(outsider.privateKey, otherRegistry, register(keyFor('outsider')))).toBe('success');
  await clients().test.mine({ blocks: 3 }); // empty blocks in between
  expect(await mined(p2, registry, rotate(keyFor('p2-1')))).toBe('success');
  expect(await mined(p1, registry, rotate(keyFor('p1-2')))).toBe('success');
  // Rotating to the same key reverts.
  expect(await mined(p4, registry, rotate(keyFor('p4-0')))).toBe('reverted');
  await inOneBlock([
    [p5, registry, register(keyFor('p5-0'))],
    [p5, registry, rotate(keyFor('p5-1'))],
    [p5, registry, rotate(keyFor('p5-2'))],
    [p2, registry, rotate(keyFor('p2-2'))],
  ]);
}

const EXPECTED = { patients: 5, registered: 5, rotated: 7, batches: 6 };

async function indexWith(open: () => Promise<Store>): Promise<EntityDump> {
  const store = await open();
  try {
    const indexer = createIndexer({ rpcUrl: anvil.rpcUrl, deployment, store, confirmations: 0, pageSize: 4, blobs });
    const status = await indexer.syncToHead();
    expect(status.checkpoint?.number).toBe(head);
    expect(status.hasIndexingErrors).toBe(false);
    return await dumpEntities(store);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  const built = ensureSubgraphBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'consentry-parity-'));
  anvil = await startAnvil();
  deployment = await deployContracts({
    rpcUrl: anvil.rpcUrl,
    privateKey: deployer.privateKey,
    chainId: CHAIN_ID,
    deploymentsDir: join(tmp, 'deployments'),
  });
  const artifact = JSON.parse(
    readFileSync(join(REPO_ROOT, 'contracts', 'out', 'PatientRegistry.sol', 'PatientRegistry.json'), 'utf8'),
  ) as { bytecode: { object: Hex } };
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN_ID, deployer.privateKey);
  const { publicClient } = clients();
  const deployHash = await wallet.deployContract({ abi: patientRegistryAbi, bytecode: artifact.bytecode.object });
  otherRegistry = (await publicClient.waitForTransactionReceipt({ hash: deployHash })).contractAddress!;
  const anchorArtifact = JSON.parse(
    readFileSync(join(REPO_ROOT, 'contracts', 'out', 'RecordAnchor.sol', 'RecordAnchor.json'), 'utf8'),
  ) as { bytecode: { object: Hex } };
  const anchorHash = await wallet.deployContract({ abi: recordAnchorAbi, bytecode: anchorArtifact.bytecode.object });
  otherAnchor = (await publicClient.waitForTransactionReceipt({ hash: anchorHash })).contractAddress!;
  blobs = await createFsBlobStore(join(tmp, 'blobs'));

  await scriptHistory(deployment.contracts.PatientRegistry.address);
  await scriptAnchors(deployment.contracts.RecordAnchor!.address);
  head = Number(await publicClient.getBlockNumber());

  // Every log of the range (the other registry's too): the host filters by the data source, as graph-node does.
  recorded = await recordLogs(anvil.rpcUrl, { fromBlock: deployment.startBlock, toBlock: head });
  await built;
  host = new MappingHost({
    sources: {
      PatientRegistry: {
        address: deployment.contracts.PatientRegistry.address,
        startBlock: deployment.contracts.PatientRegistry.startBlock,
      },
      RecordAnchor: {
        address: deployment.contracts.RecordAnchor!.address,
        startBlock: deployment.contracts.RecordAnchor!.startBlock,
      },
    },
    files: (cid) => stored.get(cid),
  }).run(recorded);
  mappingDump = host.dump();
}, 240_000);

afterAll(async () => {
  await anvil?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('subgraph mappings vs embedded indexer on one scripted history', () => {
  it('recorded a non-trivial history across several blocks', () => {
    const registry = deployment.contracts.PatientRegistry.address.toLowerCase();
    const anchor = deployment.contracts.RecordAnchor!.address.toLowerCase();
    const ours = recorded.filter((l) => l.address.toLowerCase() === registry);
    const anchors = recorded.filter((l) => l.address.toLowerCase() === anchor);
    expect(ours).toHaveLength(EXPECTED.registered + EXPECTED.rotated);
    expect(anchors).toHaveLength(EXPECTED.batches);
    // Besides ours, only the other registry's and the other anchor's logs (the deployment's other
    // contracts log their constructor's role and ownership grants, which no data source handles).
    const deployed = new Set(Object.values(deployment.contracts).map((c) => c.address.toLowerCase()));
    expect(recorded.filter((l) => !deployed.has(l.address.toLowerCase()))).toHaveLength(2);
    expect(new Set(ours.map((l) => l.block.number)).size).toBeGreaterThanOrEqual(6);
    expect(Math.max(...ours.map((l) => l.logIndex))).toBe(3); // four logs in one block
    expect(Math.max(...anchors.map((l) => l.logIndex))).toBe(1); // two batches in one block
    expect(reverted).toHaveLength(2);
    // One call per log, and one per manifest that could be fetched (the missing one stays pending).
    expect(host.calls).toHaveLength(EXPECTED.registered + EXPECTED.rotated + EXPECTED.batches + EXPECTED.batches - 1);
    expect(host.files.filter((f) => !f.done)).toHaveLength(1);
    expect(host.logs).toEqual([{ level: 'warning', message: expect.stringContaining(`batch ${anchored.invalid[0]}: manifest`) }]);
  });

  it('the mappings produce the expected entities', () => {
    expect(mappingDump.Patient).toHaveLength(EXPECTED.patients);
    expect(mappingDump.PatientRegistered).toHaveLength(EXPECTED.registered);
    expect(mappingDump.EncryptionKeyRotated).toHaveLength(EXPECTED.rotated);
    const rotations = Object.fromEntries(mappingDump.Patient!.map((p) => [p.id, p.keyRotations]));
    expect(rotations).toEqual({
      [patients[0]!.address.toLowerCase()]: 2,
      [patients[1]!.address.toLowerCase()]: 2,
      [patients[2]!.address.toLowerCase()]: 1,
      [patients[3]!.address.toLowerCase()]: 0,
      [patients[4]!.address.toLowerCase()]: 2,
    });
    expect(mappingDump.Patient!.some((p) => p.id === outsider.address.toLowerCase())).toBe(false);
    expect(mappingDump.AnchorBatch!.map((b) => b.id).sort()).toEqual([...anchored.valid, ...anchored.missing, ...anchored.invalid].sort());
    expect(mappingDump.RecordVersion).toHaveLength(anchoredVersions);
    expect(new Set(mappingDump.RecordVersion!.map((v) => v.batch))).toEqual(new Set(anchored.valid));
  });

  it('the anchored batches agree with the chain (anchoredAt)', async () => {
    const { publicClient } = clients();
    const address = deployment.contracts.RecordAnchor!.address;
    expect(await publicClient.readContract({ address, abi: recordAnchorAbi, functionName: 'batchCount' })).toBe(BigInt(EXPECTED.batches));
    for (const b of mappingDump.AnchorBatch!) {
      const [batchId] = await publicClient.readContract({ address, abi: recordAnchorAbi, functionName: 'anchoredAt', args: [b.id as Hex] });
      expect(String(batchId)).toBe(b.batchId);
    }
  });

  it('the mappings agree with the chain (the registry getters)', async () => {
    const { publicClient } = clients();
    const address = deployment.contracts.PatientRegistry.address;
    const count = await publicClient.readContract({ address, abi: patientRegistryAbi, functionName: 'patientCount' });
    expect(Number(count)).toBe(mappingDump.Patient!.length);
    for (const p of mappingDump.Patient!) {
      const patient = p.id as Address;
      const [key, registeredAt] = await Promise.all([
        publicClient.readContract({ address, abi: patientRegistryAbi, functionName: 'encryptionKeyOf', args: [patient] }),
        publicClient.readContract({ address, abi: patientRegistryAbi, functionName: 'registeredAt', args: [patient] }),
      ]);
      expect(p.encryptionKey).toBe(key.toLowerCase());
      expect(p.registeredAtTimestamp).toBe(registeredAt.toString());
    }
  });

  it('the embedded indexer (SQLite) gives exactly the same entities', async () => {
    const indexed = await indexWith(() => openSqliteStore(join(tmp, 'indexer.sqlite')));
    expect(indexed).toEqual(mappingDump);
  });

  it('the embedded indexer (PGlite) gives exactly the same entities', async () => {
    const indexed = await indexWith(() => openPgliteStore());
    expect(indexed).toEqual(mappingDump);
  });
});
