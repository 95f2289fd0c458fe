// The indexer and RecordAnchor on a real anvil, on every store kind: AnchorBatch from each
// BatchAnchored, RecordVersions from the manifests in a real (filesystem) blob store, a manifest
// that arrives late, an invalid one, and a reorg that takes a batch and its versions away.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAnchorAbi } from '@consentry/sdk/abi/generated';
import { buildBatch, type RecordLeaf } from '@consentry/sdk/anchor/leaf';
import { buildBatchManifest, manifestDigest } from '@consentry/sdk/anchor/manifest';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { walletClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { syntheticLeaf } from '@consentry/sdk/testing/leaves';
import { concat, type Hex } from 'viem';
import { graphql } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../db/store.ts';
import { loadEntityModels } from './entities.ts';
import { buildGraphQLSchema } from './graphql/schema.ts';
import { createIndexer } from './indexer.ts';
import { startTestChain, type TestChain } from './testing/chain.ts';
import { storeKinds } from './testing/stores.ts';

let chain: TestChain;
const dir = mkdtempSync(join(tmpdir(), 'consentry-indexer-anchors-'));

beforeAll(async () => {
  chain = await startTestChain();
}, 30_000);

afterAll(async () => {
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const patient = ANVIL_ACCOUNTS[1]!.address;
let serial = 0;
const leaves = (n: number): RecordLeaf[] => Array.from({ length: n }, () => syntheticLeaf(patient, ++serial, { version: 1 + (serial % 4) }));

describe.each(storeKinds())('indexer with RecordAnchor on $name', (kind) => {
  let deployment: Awaited<ReturnType<TestChain['deploy']>>;
  let blobs: BlobStore;
  const stores: Store[] = [];

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  afterAll(async () => {
    await kind.cleanup();
  });

  beforeAll(async () => {
    deployment = await chain.deploy();
    blobs = await createFsBlobStore(join(dir, kind.name, 'blobs'));
  });

  /**
   * Anchors `batch` from account 2, naming its manifest, or `opts.bytes` instead; `store: false`
   * leaves the manifest out of the blob store.
   */
  async function anchor(batch: RecordLeaf[], opts: { store?: boolean; bytes?: Uint8Array } = {}) {
    const tree = buildBatch(batch);
    const manifest = buildBatchManifest(batch, tree);
    const bytes = opts.bytes ?? manifest.bytes;
    if (opts.store !== false) await blobs.put(bytes);
    const wallet = walletClientFor(chain.rpcUrl, 31337, ANVIL_ACCOUNTS[2]!.privateKey);
    const hash = await wallet.writeContract({
      address: deployment.contracts.RecordAnchor!.address,
      abi: recordAnchorAbi,
      functionName: 'anchor',
      args: [tree.root, batch.length, manifestDigest(bytes)],
    });
    const receipt = await chain.client.waitForTransactionReceipt({ hash });
    return { root: tree.root, manifest, bytes, blockNumber: Number(receipt.blockNumber), txHash: hash };
  }

  async function open(): Promise<Store> {
    const store = await kind.open();
    stores.push(store);
    return store;
  }

  const versionIds = (root: Hex, manifest: ReturnType<typeof buildBatchManifest>) =>
    manifest.json.leaves.map((l) => concat([root, l.leaf]));

  it('indexes batches and their manifests; a late manifest is fetched on a later try; an invalid one gives no versions', async () => {
    const good = await anchor(leaves(3));
    const late = await anchor(leaves(2), { store: false });
    const other = leaves(2);
    // A manifest of another batch, stored and named by this anchor: not this batch's, so no versions.
    const invalid = await anchor(leaves(2), { bytes: buildBatchManifest(other, buildBatch(other)).bytes });
    const store = await open();
    const warnings: unknown[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (o: unknown) => void warnings.push(o) };
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, blobs, manifestRetryMs: 50, logger });
    const status = await indexer.syncToHead();
    expect(status.manifestsFetched).toBe(1);
    expect(status.manifestsInvalid).toBe(1);

    const batches = await store.findMany('AnchorBatch', { first: 10, skip: 0, orderBy: 'batchId' });
    expect(batches.map((b) => b.id)).toEqual([good.root, late.root, invalid.root]);
    expect(batches[0]).toEqual({
      id: good.root,
      batchId: 1n,
      root: good.root,
      submitter: ANVIL_ACCOUNTS[2]!.address.toLowerCase(),
      leafCount: 3n,
      manifest: good.manifest.digest,
      blockNumber: BigInt(good.blockNumber),
      blockTimestamp: expect.any(BigInt),
      transactionHash: good.txHash,
    });
    const versions = await store.findMany('RecordVersion', { first: 100, skip: 0 });
    expect(versions.map((v) => v.id).sort()).toEqual(versionIds(good.root, good.manifest).sort());
    expect(versions.find((v) => v.leaf === good.manifest.json.leaves[1]!.leaf)).toEqual({
      id: concat([good.root, good.manifest.json.leaves[1]!.leaf]),
      batch: good.root,
      leaf: good.manifest.json.leaves[1]!.leaf,
      recordId: good.manifest.json.leaves[1]!.recordId,
      version: good.manifest.json.leaves[1]!.version,
      blockNumber: BigInt(good.blockNumber),
    });
    expect(warnings).toContainEqual(expect.objectContaining({ batch: late.root, code: 'BLOB_NOT_FOUND', attempts: 1 }));
    expect(warnings).toContainEqual(expect.objectContaining({ batch: invalid.root, err: expect.stringMatching(/is for root/) }));

    // The chain moves on without the late manifest; once it is stored, a later step picks it up.
    await blobs.put(late.bytes);
    // The retry is due 50 ms after the failed attempt; on a loaded machine a step can come early or a
    // fetch can miss its timeout once, so step a few times (bounded) rather than once.
    for (let step = 0; step < 20 && indexer.status().manifestsFetched < 2; step++) {
      await new Promise((r) => setTimeout(r, 60));
      await indexer.syncToHead();
    }
    expect(indexer.status().manifestsFetched).toBe(2);
    const all = await store.findMany('RecordVersion', { first: 100, skip: 0, where: [{ field: 'batch', op: 'eq', value: late.root }] });
    expect(all.map((v) => v.id).sort()).toEqual(versionIds(late.root, late.manifest).sort());
    expect(await store.dueManifests(Date.now() + 3_600_000, 10)).toEqual([]);
  });

  it('serves both entities over GraphQL from schema.graphql: batches with their versions, versions by leaf', async () => {
    const batch = await anchor(leaves(2));
    const store = await open();
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, blobs });
    await indexer.syncToHead();
    const schema = buildGraphQLSchema({
      models: loadEntityModels().models,
      store,
      meta: () => ({ checkpoint: indexer.status().checkpoint, hasIndexingErrors: false, deployment: 'test' }),
    });
    const leaf = batch.manifest.json.leaves[1]!;
    const result = await graphql({
      schema,
      source: `query ($root: ID!, $leaf: Bytes!) {
        anchorBatch(id: $root) { batchId leafCount manifest versions(orderBy: version) { leaf recordId version } }
        recordVersions(where: { leaf: $leaf }) { id batch { id root } }
      }`,
      variableValues: { root: batch.root, leaf: leaf.leaf },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      anchorBatch: {
        batchId: expect.stringMatching(/^\d+$/),
        leafCount: '2',
        manifest: batch.manifest.digest,
        versions: [...batch.manifest.json.leaves].sort((a, b) => a.version - b.version),
      },
      recordVersions: [{ id: concat([batch.root, leaf.leaf]), batch: { id: batch.root, root: batch.root } }],
    });
  });

  it('a blob store that hangs does not hold up the chain: the manifest is retried later', async () => {
    const batch = await anchor(leaves(2));
    const store = await open();
    let hang = true;
    const slow: BlobStore = { ...blobs, get: (cid) => (hang ? new Promise<Uint8Array>(() => {}) : blobs.get(cid)) };
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, blobs: slow, manifestRetryMs: 10, manifestTimeoutMs: 50 });
    const status = await indexer.syncToHead();
    expect(status.checkpoint?.number).toBe(Number(await chain.client.getBlockNumber()));
    expect(await store.findById('AnchorBatch', batch.root)).not.toBeNull();
    expect(await store.count('RecordVersion')).toBe(0);
    hang = false;
    await new Promise((r) => setTimeout(r, 30));
    await indexer.syncToHead();
    expect(await store.findMany('RecordVersion', { first: 10, skip: 0, where: [{ field: 'batch', op: 'eq', value: batch.root }] })).toHaveLength(2);
  });

  it('a reorg takes a batch away with its versions and its pending manifest', async () => {
    const store = await open();
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, blobs, manifestRetryMs: 50 });
    await indexer.syncToHead();
    const before = await store.count('AnchorBatch');
    const versionsBefore = await store.count('RecordVersion');
    const snapshot = await chain.rpc<string>('evm_snapshot');
    const doomed = await anchor(leaves(4));
    const pending = await anchor(leaves(1), { store: false });
    await indexer.syncToHead();
    expect(await store.count('AnchorBatch')).toBe(before + 2);
    expect(await store.count('RecordVersion')).toBe(versionsBefore + 4);
    expect((await store.dueManifests(Date.now() + 3_600_000, 10)).map((m) => m.batch)).toEqual([pending.root]);

    expect(await chain.rpc('evm_revert', [snapshot])).toBe(true);
    // The new branch is longer than the old one, with no anchors.
    await chain.rpc('anvil_mine', ['0x4']);
    const status = await indexer.syncToHead();
    expect(status.reorgs).toBeGreaterThanOrEqual(1);
    expect(await store.findById('AnchorBatch', doomed.root)).toBeNull();
    expect(await store.count('AnchorBatch')).toBe(before);
    expect(await store.count('RecordVersion')).toBe(versionsBefore);
    expect(await store.dueManifests(Date.now() + 3_600_000, 10)).toEqual([]);
  });

  it('without RecordAnchor in the deployment, follows PatientRegistry alone', async () => {
    const store = await open();
    const { RecordAnchor: _omit, ...contracts } = deployment.contracts;
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment: { ...deployment, contracts }, store, confirmations: 0, blobs });
    await indexer.syncToHead();
    expect(await store.count('AnchorBatch')).toBe(0);
    expect((await store.readState())?.anchorAddress).toBeNull();
  });
});
