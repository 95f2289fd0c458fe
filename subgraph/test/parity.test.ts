// Parity: one scripted chain history, indexed twice — by the subgraph's compiled WASM mappings
// (run by the test host on the recorded logs) and by the embedded indexer (workers/src/indexer,
// following the same anvil) — must give the same entities. The chain's own view (the registry's
// and the anchor's getters) checks both. The history registers and rotates keys, and anchors
// record batches (by the anchorer, two in one block, one whose manifest is missing, one whose
// manifest is another batch's, one on an unrelated RecordAnchor); the mappings get manifests from
// the same blob store the indexer reads. Then the access contracts: organisations register, are
// accredited, updated and suspended; patients set policies, approve subsets, deny, revoke and are
// asked again; requesters cancel; an emergency provider breaks glass (closed early, reopened); the
// release committee grows, rotates a key, posts access-log roots and shrinks.
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
import {
  accessGrantsAbi,
  organizationRegistryAbi,
  patientRegistryAbi,
  recordAnchorAbi,
  releaseCommitteeAbi,
} from '@consentry/sdk/abi/generated';
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
import { createAnchorer } from '../../workers/src/anchorer/anchorer.ts';
import { indexWith as indexWithStore } from './index-with.ts';
import { ensureSubgraphBuilt, MappingHost, type EntityDump, type RecordedLog } from './host/index.ts';
import { recordLogs } from './host/record.ts';

const CHAIN_ID = 31337;
const deployer = ANVIL_ACCOUNTS[0]!;
/** Patients are anvil accounts 1..5; account 6 registers on a second, unrelated registry. */
const patients = ANVIL_ACCOUNTS.slice(1, 6);
const outsider = ANVIL_ACCOUNTS[6]!;
const GAS = 500_000n;

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

/** Organisations: a clinic, an emergency provider and a researcher (anvil accounts 8, 9 and 6). */
const clinic = ANVIL_ACCOUNTS[8]!;
const emergency = ANVIL_ACCOUNTS[9]!;
const researcher = outsider;
/** Committee members (their keys are X25519 keys like the patients'). */
const members = [ANVIL_ACCOUNTS[2]!, ANVIL_ACCOUNTS[3]!, ANVIL_ACCOUNTS[4]!] as const;
const YEAR = 365 * 24 * 3600;
const DAY = 86_400;
const ZERO_HASH: Hex = `0x${'00'.repeat(32)}`;
const orgCall = (functionName: 'register' | 'update' | 'accredit' | 'suspend', args: readonly unknown[]) =>
  encodeFunctionData({ abi: organizationRegistryAbi, functionName, args } as Parameters<typeof encodeFunctionData>[0]);
const grantsCall = (
  functionName: 'requestAccess' | 'approve' | 'deny' | 'cancelRequest' | 'revoke' | 'setPolicy' | 'breakGlass' | 'closeBreakGlass',
  args: readonly unknown[],
) => encodeFunctionData({ abi: accessGrantsAbi, functionName, args } as Parameters<typeof encodeFunctionData>[0]);
const committeeCall = (functionName: 'addMember' | 'removeMember' | 'rotateKey' | 'postLogRoot', args: readonly unknown[]) =>
  encodeFunctionData({ abi: releaseCommitteeAbi, functionName, args } as Parameters<typeof encodeFunctionData>[0]);
const label = (text: string): Hex => keccak256(toHex(`parity:${text}`));
/** Request ids in the order the script makes them (the contract counts from 1). */
const REQUEST = { clinicP1: 1n, researcherP2: 2n, clinicP3: 3n, clinicP2: 4n, clinicP1Again: 5n };
const PURPOSE = { TREAT: 0, HRESCH: 4 };
const KIND = { Provider: 0, EmergencyProvider: 1, Researcher: 2, Insurer: 3 };

/** The access part of the history: see the file header. */
async function scriptAccess(): Promise<void> {
  const orgs = deployment.contracts.OrganizationRegistry!.address;
  const grants = deployment.contracts.AccessGrants!.address;
  const committee = deployment.contracts.ReleaseCommittee!.address;
  const [p1, p2, p3, p4] = patients.map((p) => p.privateKey) as [Hex, Hex, Hex, Hex];
  const [a1, a2, a3, a4] = patients.map((p) => p.address) as [Address, Address, Address, Address];
  const admin = deployer.privateKey;
  const now = Number((await clients().publicClient.getBlock()).timestamp);
  // Three organisations register in one block; the admin (the local accreditor) accredits them in the next.
  await inOneBlock([
    [clinic.privateKey, orgs, orgCall('register', [KIND.Provider, label('clinic'), label('clinic:meta')])],
    [emergency.privateKey, orgs, orgCall('register', [KIND.EmergencyProvider, label('er'), label('er:meta')])],
    [researcher.privateKey, orgs, orgCall('register', [KIND.Researcher, label('lab'), ZERO_HASH])],
  ]);
  await inOneBlock([
    [admin, orgs, orgCall('accredit', [clinic.address, BigInt(now + YEAR)])],
    [admin, orgs, orgCall('accredit', [emergency.address, BigInt(now + YEAR)])],
    [admin, orgs, orgCall('accredit', [researcher.address, BigInt(now + YEAR / 2)])],
  ]);
  expect(await mined(clinic.privateKey, orgs, orgCall('update', [label('clinic 2'), label('clinic:meta2')]))).toBe('success');
  // Registering twice reverts.
  expect(await mined(clinic.privateKey, orgs, orgCall('register', [KIND.Provider, label('again'), label('again')]))).toBe('reverted');
  // p1 never shares category 12 and refuses insurers.
  expect(await mined(p1, grants, grantsCall('setPolicy', [0x1000, 1 << KIND.Insurer]))).toBe('success');
  await inOneBlock([
    [clinic.privateKey, grants, grantsCall('requestAccess', [a1, 0x0007, PURPOSE.TREAT, 30 * DAY])],
    [researcher.privateKey, grants, grantsCall('requestAccess', [a2, 0x0030, PURPOSE.HRESCH, 90 * DAY])],
    [clinic.privateKey, grants, grantsCall('requestAccess', [a3, 0x0001, PURPOSE.TREAT, DAY])],
  ]);
  // A request for a never-shared category reverts.
  expect(await mined(clinic.privateKey, grants, grantsCall('requestAccess', [a1, 0x1001, PURPOSE.TREAT, DAY]))).toBe('reverted');
  // p1 approves a subset for less time, p2 denies, the clinic cancels its request to p3: one block.
  await inOneBlock([
    [p1, grants, grantsCall('approve', [REQUEST.clinicP1, 0x0003, 7 * DAY])],
    [p2, grants, grantsCall('deny', [REQUEST.researcherP2])],
    [clinic.privateKey, grants, grantsCall('cancelRequest', [REQUEST.clinicP3])],
  ]);
  expect(await mined(clinic.privateKey, grants, grantsCall('requestAccess', [a2, 0x0104, PURPOSE.TREAT, DAY]))).toBe('success');
  // Approving more than was asked reverts; then p2 approves all of it and revokes it.
  expect(await mined(p2, grants, grantsCall('approve', [REQUEST.clinicP2, 0x0105, DAY]))).toBe('reverted');
  expect(await mined(p2, grants, grantsCall('approve', [REQUEST.clinicP2, 0x0104, DAY]))).toBe('success');
  expect(await mined(p2, grants, grantsCall('revoke', [clinic.address]))).toBe('success');
  // p1 revokes, is asked again and approves again: the Grant is live again, for the new request.
  expect(await mined(p1, grants, grantsCall('revoke', [clinic.address]))).toBe('success');
  expect(await mined(clinic.privateKey, grants, grantsCall('requestAccess', [a1, 0x0001, PURPOSE.TREAT, DAY]))).toBe('success');
  expect(await mined(p1, grants, grantsCall('approve', [REQUEST.clinicP1Again, 0x0001, 3600]))).toBe('success');
  // Break-glass: only the emergency provider may; p3's window is closed by p3, then reopened; p4's stays open.
  expect(await mined(clinic.privateKey, grants, grantsCall('breakGlass', [a3, label('why'), 0]))).toBe('reverted');
  expect(await mined(emergency.privateKey, grants, grantsCall('breakGlass', [a3, label('er:1'), 0]))).toBe('success');
  await inOneBlock([
    [p3, grants, grantsCall('closeBreakGlass', [a3, emergency.address])],
    [emergency.privateKey, grants, grantsCall('breakGlass', [a4, label('er:2'), 3600])],
  ]);
  expect(await mined(emergency.privateKey, grants, grantsCall('breakGlass', [a3, label('er:3'), 7200]))).toBe('success');
  expect(await mined(p4, grants, grantsCall('setPolicy', [0x0002, 0]))).toBe('success');
  // The researcher's accreditation is suspended.
  expect(await mined(admin, orgs, orgCall('suspend', [researcher.address, label('audit')]))).toBe('success');
  // The committee: three members join (threshold 1, 2, 2), one rotates its key, roots are posted, one leaves.
  const [m1, m2, m3] = members;
  await inOneBlock([
    [admin, committee, committeeCall('addMember', [m1.address, keyFor('m1-0'), 1])],
    [admin, committee, committeeCall('addMember', [m2.address, keyFor('m2-0'), 2])],
  ]);
  expect(await mined(admin, committee, committeeCall('addMember', [m3.address, keyFor('m3-0'), 2]))).toBe('success');
  expect(await mined(m1.privateKey, committee, committeeCall('rotateKey', [keyFor('m1-1')]))).toBe('success');
  await inOneBlock([
    [m2.privateKey, committee, committeeCall('postLogRoot', [label('log:m2:1'), 17])],
    // A count above 2^31: BigInt on both sides.
    [m1.privateKey, committee, committeeCall('postLogRoot', [label('log:m1:1'), 4_000_000_000])],
  ]);
  // The same root twice reverts; a non-member cannot post.
  expect(await mined(m2.privateKey, committee, committeeCall('postLogRoot', [label('log:m2:1'), 17]))).toBe('reverted');
  expect(await mined(clinic.privateKey, committee, committeeCall('postLogRoot', [label('log:x'), 1]))).toBe('reverted');
  expect(await mined(admin, committee, committeeCall('removeMember', [m3.address, 2]))).toBe('success');
  expect(await mined(m2.privateKey, committee, committeeCall('postLogRoot', [label('log:m2:2'), 3]))).toBe('success');
}

const EXPECTED = {
  patients: 5,
  registered: 5,
  rotated: 7,
  batches: 6,
  /** 3 registered, 3 accredited, 1 updated, 1 suspended. */
  organizationLogs: 8,
  /** 2 policies, 5 requests, 3 approvals, 1 denial, 1 cancellation, 2 revocations, 3 openings, 1 closing. */
  accessLogs: 18,
  /** 3 added + 3 epochs, 1 rotation + 1 epoch, 3 roots, 1 removed + 1 epoch. */
  committeeLogs: 13,
  /** 2 in the registry part, 6 in the access part. */
  reverted: 8,
};


const indexWith = (open: () => Promise<Store>): Promise<EntityDump> => indexWithStore(open, { rpcUrl: anvil.rpcUrl, deployment, confirmations: 0, pageSize: 4, blobs }, head);

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
  await scriptAccess();
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
      OrganizationRegistry: deployment.contracts.OrganizationRegistry!,
      AccessGrants: deployment.contracts.AccessGrants!,
      ReleaseCommittee: deployment.contracts.ReleaseCommittee!,
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
    // The access contracts' logs after their deployment block are all handled ones.
    const after = (contract: 'OrganizationRegistry' | 'AccessGrants' | 'ReleaseCommittee') => {
      const { address, startBlock } = deployment.contracts[contract]!;
      return recorded.filter((l) => l.address.toLowerCase() === address.toLowerCase() && BigInt(l.block.number) > BigInt(startBlock));
    };
    expect(after('OrganizationRegistry')).toHaveLength(EXPECTED.organizationLogs);
    expect(after('AccessGrants')).toHaveLength(EXPECTED.accessLogs);
    expect(after('ReleaseCommittee')).toHaveLength(EXPECTED.committeeLogs);
    expect(new Set(ours.map((l) => l.block.number)).size).toBeGreaterThanOrEqual(6);
    expect(Math.max(...ours.map((l) => l.logIndex))).toBe(3); // four logs in one block
    expect(Math.max(...anchors.map((l) => l.logIndex))).toBe(1); // two batches in one block
    expect(reverted).toHaveLength(EXPECTED.reverted);
    // One call per log, and one per manifest that could be fetched (the missing one stays pending).
    const accessCalls = EXPECTED.organizationLogs + EXPECTED.accessLogs + EXPECTED.committeeLogs;
    expect(host.calls).toHaveLength(EXPECTED.registered + EXPECTED.rotated + EXPECTED.batches + EXPECTED.batches - 1 + accessCalls);
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

  it('the mappings produce the expected access entities', () => {
    const lower = (a: Address) => a.toLowerCase();
    const pair = (a: Address, b: Address) => `${lower(a)}${lower(b).slice(2)}`;
    const byId = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(mappingDump.Organization!.map((o) => [o.id, o.kind, o.accredited])).toEqual(
      [
        [lower(clinic.address), KIND.Provider, true],
        [lower(emergency.address), KIND.EmergencyProvider, true],
        [lower(researcher.address), KIND.Researcher, false],
      ].sort(byId),
    );
    const status = Object.fromEntries(mappingDump.AccessRequest!.map((r) => [r.requestId, [r.status, r.approvedCategories]]));
    expect(status).toEqual({
      '1': ['APPROVED', 0x0003],
      '2': ['DENIED', 0],
      '3': ['CANCELLED', 0],
      '4': ['APPROVED', 0x0104],
      '5': ['APPROVED', 0x0001],
    });
    // Request ids are 32 big-endian bytes.
    expect(mappingDump.AccessRequest!.find((r) => r.requestId === '1')!.id).toBe(`0x${'00'.repeat(31)}01`);
    const grants = Object.fromEntries(mappingDump.Grant!.map((g) => [g.id, [g.requestId, g.categories, g.revoked]]));
    expect(grants).toEqual({
      [pair(patients[0]!.address, clinic.address)]: ['5', 0x0001, false],
      [pair(patients[1]!.address, clinic.address)]: ['4', 0x0104, true],
    });
    const kinds = mappingDump.AccessEvent!.map((e) => e.kind);
    expect(kinds).toHaveLength(EXPECTED.accessLogs - 2); // policy changes are not inbox events
    expect(kinds.filter((k) => k === 'BREAK_GLASS_OPENED')).toHaveLength(3);
    const closing = mappingDump.AccessEvent!.find((e) => e.kind === 'BREAK_GLASS_CLOSED')!;
    expect([closing.actor, closing.requestId, closing.categories]).toEqual([lower(patients[2]!.address), null, null]);
    const windows = Object.fromEntries(mappingDump.BreakGlass!.map((w) => [w.id, [w.openings, w.closed]]));
    expect(windows).toEqual({
      [pair(patients[2]!.address, emergency.address)]: [2, false],
      [pair(patients[3]!.address, emergency.address)]: [1, false],
    });
    expect(mappingDump.PatientPolicy).toHaveLength(2);
    const committee = Object.fromEntries(
      mappingDump.CommitteeMember!.map((m) => [m.id, [m.active, m.keyRotations, m.removedAtEpoch]]),
    );
    expect(committee).toEqual({
      [lower(members[0].address)]: [true, 1, '0'],
      [lower(members[1].address)]: [true, 0, '0'],
      [lower(members[2].address)]: [false, 0, '5'],
    });
    expect(mappingDump.CommitteeEpoch!.map((e) => Number(e.epoch)).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(mappingDump.LogRoot!.map((r) => r.count).sort()).toEqual(['17', '3', '4000000000']);
  });

  it("the access entities agree with the chain (the access contracts' getters)", async () => {
    const { publicClient } = clients();
    const orgs = deployment.contracts.OrganizationRegistry!.address;
    const grants = deployment.contracts.AccessGrants!.address;
    const committee = deployment.contracts.ReleaseCommittee!.address;
    for (const o of mappingDump.Organization!) {
      const org = await publicClient.readContract({
        address: orgs,
        abi: organizationRegistryAbi,
        functionName: 'organizationOf',
        args: [o.id as Address],
      });
      expect([o.kind, o.nameHash, o.metadataHash, o.accredited, o.accreditedUntil, o.registeredAtTimestamp]).toEqual([
        org.kind,
        org.nameHash,
        org.metadataHash,
        org.accredited,
        String(org.accreditedUntil),
        String(org.registeredAt),
      ]);
    }
    const statuses = ['NONE', 'PENDING', 'APPROVED', 'DENIED', 'CANCELLED'];
    expect(await publicClient.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'requestCount' })).toBe(5n);
    for (const r of mappingDump.AccessRequest!) {
      const req = await publicClient.readContract({
        address: grants,
        abi: accessGrantsAbi,
        functionName: 'requestOf',
        args: [BigInt(r.requestId as string)],
      });
      expect([r.patient, r.requester, r.categories, r.purpose, r.duration, r.status, r.createdAtTimestamp]).toEqual([
        req.patient.toLowerCase(),
        req.requester.toLowerCase(),
        req.categories,
        req.purpose,
        String(req.duration),
        statuses[req.status],
        String(req.createdAt),
      ]);
    }
    for (const g of mappingDump.Grant!) {
      const args = [g.patient as Address, g.grantee as Address] as const;
      const grant = await publicClient.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'grantOf', args });
      // A revoked grant is deleted on chain.
      if (g.revoked) expect(grant.requestId).toBe(0n);
      else {
        expect([g.categories, g.requestId, g.expiresAt, g.grantedAt]).toEqual([
          grant.categories,
          String(grant.requestId),
          String(grant.expiresAt),
          String(grant.grantedAt),
        ]);
      }
    }
    for (const w of mappingDump.BreakGlass!) {
      const args = [w.patient as Address, w.provider as Address] as const;
      const bg = await publicClient.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'breakGlassOf', args });
      expect([w.categories, w.openedAt, w.expiresAt]).toEqual([bg.categories, String(bg.openedAt), String(bg.expiresAt)]);
    }
    for (const p of mappingDump.PatientPolicy!) {
      const args = [p.id as Address] as const;
      const policy = await publicClient.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'policyOf', args });
      expect([p.neverShare, p.bannedKinds]).toEqual([policy.neverShare, policy.bannedKinds]);
    }
    const [epoch, threshold, current] = await publicClient.readContract({
      address: committee,
      abi: releaseCommitteeAbi,
      functionName: 'committee',
    });
    const latest = [...mappingDump.CommitteeEpoch!].sort((a, b) => Number(a.epoch) - Number(b.epoch)).at(-1)!;
    expect([latest.epoch, latest.threshold, latest.size]).toEqual([String(epoch), threshold, current.length]);
    const active = mappingDump.CommitteeMember!.filter((m) => m.active);
    expect(Object.fromEntries(active.map((m) => [m.id, m.encryptionKey]))).toEqual(
      Object.fromEntries(current.map((m) => [m.account.toLowerCase(), m.encryptionKey.toLowerCase()])),
    );
    for (const r of mappingDump.LogRoot!) {
      const args = [r.member as Address, r.root as Hex] as const;
      const [rootEpoch] = await publicClient.readContract({ address: committee, abi: releaseCommitteeAbi, functionName: 'logRootOf', args });
      expect(String(rootEpoch)).toBe(r.epoch);
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
