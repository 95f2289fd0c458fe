import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts, type DeployResult } from '../../../contracts/script/deploy.ts';
import { recordAnchorAbi } from '@consentry/sdk/abi/generated';
import { buildBatch } from '@consentry/sdk/anchor/leaf';
import { buildBatchManifest, manifestDigestOfCid, parseBatchManifest } from '@consentry/sdk/anchor/manifest';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { syntheticLeaf } from '@consentry/sdk/testing/leaves';
import { createAnchorer, type AnchoredBatch } from './anchorer.ts';

const patient = ANVIL_ACCOUNTS[1]!.address;
let serial = 0;
const leaf = () => syntheticLeaf(patient, ++serial);

describe('createAnchorer (real anvil)', () => {
  let anvil: AnvilInstance;
  let deployment: DeployResult;
  let blobs: BlobStore;
  const dir = mkdtempSync(join(tmpdir(), 'consentry-anchorer-'));
  const privateKey = ANVIL_ACCOUNTS[3]!.privateKey;
  const client = () => publicClientFor(anvil.rpcUrl, 31337);
  const batchCount = () =>
    client().readContract({ address: deployment.contracts.RecordAnchor!.address, abi: recordAnchorAbi, functionName: 'batchCount' });
  const verifiesOnChain = (b: AnchoredBatch, i: number) =>
    client().readContract({
      address: deployment.contracts.RecordAnchor!.address,
      abi: recordAnchorAbi,
      functionName: 'verifyRecord',
      args: [b.root, buildBatch(b.leaves).leafHashes[i]!, b.proofs[i]!],
    });

  beforeAll(async () => {
    anvil = await startAnvil();
    deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: 31337, deploymentsDir: dir });
    blobs = await createFsBlobStore(join(dir, 'blobs'));
  });
  afterAll(async () => {
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('batches by size: one transaction per maxBatch leaves, every proof verifies on chain', async () => {
    const anchored: AnchoredBatch[] = [];
    const anchorer = createAnchorer({ rpcUrl: anvil.rpcUrl, privateKey, deployment, blobs, maxBatch: 4, maxAgeMs: 0, onAnchored: (b) => void anchored.push(b) });
    const before = await batchCount();
    for (let i = 0; i < 10; i++) anchorer.enqueue(leaf());
    await anchorer.flush();
    await anchorer.stop();
    expect(anchored.map((b) => b.leaves.length)).toEqual([4, 4, 2]);
    expect(await batchCount()).toBe(before + 3n);
    expect(new Set(anchored.map((b) => b.txHash)).size).toBe(3);
    for (const b of anchored) for (let i = 0; i < b.leaves.length; i++) expect(await verifiesOnChain(b, i)).toBe(true);
    expect(anchorer.pending()).toBe(0);
  });

  it('stores each batch manifest before anchoring and names its digest in the BatchAnchored event', async () => {
    const batches: AnchoredBatch[] = [];
    const anchorer = createAnchorer({ rpcUrl: anvil.rpcUrl, privateKey, deployment, blobs, maxBatch: 3, maxAgeMs: 0, onAnchored: (b) => void batches.push(b) });
    for (let i = 0; i < 5; i++) anchorer.enqueue(leaf());
    await anchorer.flush();
    await anchorer.stop();
    expect(batches.map((b) => b.leaves.length)).toEqual([3, 2]);
    for (const b of batches) {
      const built = buildBatchManifest(b.leaves, buildBatch(b.leaves));
      expect(b.manifestCid).toBe(built.cid);
      const manifest = parseBatchManifest(await blobs.get(b.manifestCid), { root: b.root, leafCount: b.leaves.length });
      expect(manifest.leaves.map((l) => l.recordId)).toEqual(b.leaves.map((l) => l.recordId));
      const [event] = await client().getContractEvents({
        address: deployment.contracts.RecordAnchor!.address,
        abi: recordAnchorAbi,
        eventName: 'BatchAnchored',
        args: { root: b.root },
        fromBlock: b.blockNumber,
        toBlock: b.blockNumber,
      });
      expect(event!.args.manifest).toBe(manifestDigestOfCid(b.manifestCid));
      expect(event!.args.leafCount).toBe(b.leaves.length);
    }
  });

  it('sends nothing, and keeps the leaves queued, when the manifest cannot be stored', async () => {
    const broken: BlobStore = { ...blobs, kind: 'fs', put: () => Promise.reject(new Error('disk full')) };
    const before = await batchCount();
    const anchorer = createAnchorer({ rpcUrl: anvil.rpcUrl, privateKey, deployment, blobs: broken, maxAgeMs: 0 });
    anchorer.enqueue(leaf());
    await expect(anchorer.flush()).rejects.toMatchObject({ code: 'ANCHOR_MANIFEST_FAILED', message: expect.stringContaining('disk full') });
    expect(anchorer.pending()).toBe(1);
    expect(await batchCount()).toBe(before);
    await anchorer.stop();
  });

  it('batches by age: a lone leaf is anchored once it has waited maxAgeMs', async () => {
    let resolve!: (b: AnchoredBatch) => void;
    const done = new Promise<AnchoredBatch>((r) => (resolve = r));
    const anchorer = createAnchorer({ rpcUrl: anvil.rpcUrl, privateKey, deployment, blobs, maxBatch: 100, maxAgeMs: 300, onAnchored: resolve });
    const started = Date.now();
    anchorer.enqueue(leaf());
    anchorer.enqueue(leaf());
    const batch = await done;
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(batch.leaves).toHaveLength(2);
    expect(await verifiesOnChain(batch, 1)).toBe(true);
    await anchorer.stop();
  });

  it('never anchors the same leaves twice: a root already on chain is reported, not resent', async () => {
    const leaves = [leaf(), leaf(), leaf()];
    const { root } = buildBatch(leaves);
    const wallet = walletClientFor(anvil.rpcUrl, 31337, privateKey);
    const hash = await wallet.writeContract({ address: deployment.contracts.RecordAnchor!.address, abi: recordAnchorAbi, functionName: 'anchor', args: [root, 3, `0x${'ab'.repeat(32)}`] });
    await client().waitForTransactionReceipt({ hash });
    const before = await batchCount();
    const anchorer = createAnchorer({ rpcUrl: anvil.rpcUrl, privateKey, deployment, blobs, maxAgeMs: 0 });
    leaves.forEach((l) => anchorer.enqueue(l));
    const [batch] = await anchorer.flush();
    expect(batch!.txHash).toBe(hash);
    // Its manifest is stored all the same, so the batch can still be listed.
    expect(await blobs.has(batch!.manifestCid)).toBe(true);
    expect(batch!.batchId).toBe(before);
    expect(await batchCount()).toBe(before);
    expect(anchorer.pending()).toBe(0);
  });

  it('keeps the leaves queued, with a clear error, when the chain cannot be reached', async () => {
    const dead = await startAnvil();
    await dead.stop();
    const anchorer = createAnchorer({ rpcUrl: dead.rpcUrl, privateKey, deployment, blobs, maxAgeMs: 0 });
    anchorer.enqueue(leaf());
    anchorer.enqueue(leaf());
    await expect(anchorer.flush()).rejects.toMatchObject({ code: 'ANCHOR_FAILED', message: expect.stringContaining('stay queued') });
    expect(anchorer.pending()).toBe(2);
    await anchorer.stop();
  });

  it('refuses a deployment without RecordAnchor', () => {
    const { RecordAnchor: _omit, ...contracts } = deployment.contracts;
    expect(() => createAnchorer({ rpcUrl: anvil.rpcUrl, privateKey, deployment: { ...deployment, contracts }, blobs })).toThrowError(/no RecordAnchor/);
  });
});
