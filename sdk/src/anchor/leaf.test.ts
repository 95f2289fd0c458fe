import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { recordAnchorAbi } from '../abi/generated.ts';
import { cidOf } from '../blobs/cid.ts';
import { publicClientFor, walletClientFor } from '../clients.ts';
import { CATEGORIES } from '../records/categories.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import { syntheticLeaf } from '../testing/leaves.ts';
import { buildBatchManifest } from './manifest.ts';
import { buildBatch, leafHash, NO_SUPERSEDES, recordIdFor, verifyLeaf, type RecordLeaf } from './leaf.ts';

const patient = ANVIL_ACCOUNTS[1]!.address;
const leaves: RecordLeaf[] = Array.from({ length: 37 }, (_, i) =>
  syntheticLeaf(patient, i, {
    version: 1 + (i % 3),
    category: CATEGORIES[i % CATEGORIES.length]!,
    supersedes: i % 3 === 0 ? NO_SUPERSEDES : (`0x${'11'.repeat(32)}` as Hex),
  }),
);

describe('record leaves (offline)', () => {
  it('recordIdFor is deterministic and separates patients and resources', () => {
    expect(recordIdFor(patient, 'Observation', 'a')).toBe(recordIdFor(patient, 'Observation', 'a'));
    expect(recordIdFor(patient, 'Observation', 'a')).not.toBe(recordIdFor(patient, 'Condition', 'a'));
    expect(recordIdFor(patient, 'Observation', 'a')).not.toBe(recordIdFor(ANVIL_ACCOUNTS[2]!.address, 'Observation', 'a'));
  });

  it('every leaf of a batch verifies against the root; a changed field does not', () => {
    const batch = buildBatch(leaves);
    leaves.forEach((leaf, i) => {
      expect(verifyLeaf(batch.root, leaf, batch.proofs[i]!)).toBe(true);
      expect(batch.leafHashes[i]).toBe(leafHash(leaf));
    });
    const leaf = leaves[5]!;
    const proof = batch.proofs[5]!;
    expect(verifyLeaf(batch.root, { ...leaf, version: leaf.version + 1 }, proof)).toBe(false);
    expect(verifyLeaf(batch.root, { ...leaf, category: 'mental-health' }, proof)).toBe(false);
    expect(verifyLeaf(batch.root, { ...leaf, cid: cidOf(new TextEncoder().encode('other')) }, proof)).toBe(false);
    expect(verifyLeaf(batch.root, leaf, batch.proofs[6]!)).toBe(false);
  });

  it('refuses an empty batch', () => {
    expect(() => buildBatch([])).toThrowError(RangeError);
  });
});

describe('record leaves against RecordAnchor on a real chain', () => {
  let anvil: AnvilInstance;
  const dir = mkdtempSync(join(tmpdir(), 'consentry-anchor-'));
  beforeAll(async () => {
    anvil = await startAnvil();
  });
  afterAll(async () => {
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proofs built by the sdk verify in RecordAnchor.verifyRecord once the root is anchored', async () => {
    const deployment = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      privateKey: ANVIL_ACCOUNTS[0]!.privateKey,
      chainId: 31337,
      deploymentsDir: dir,
    });
    const address = deployment.contracts.RecordAnchor!.address;
    const client = publicClientFor(anvil.rpcUrl, 31337);
    const wallet = walletClientFor(anvil.rpcUrl, 31337, ANVIL_ACCOUNTS[1]!.privateKey);
    const batch = buildBatch(leaves);
    const verify = (i: number, hash: Hex = batch.leafHashes[i]!) =>
      client.readContract({ address, abi: recordAnchorAbi, functionName: 'verifyRecord', args: [batch.root, hash, batch.proofs[i]!] });

    expect(await verify(0)).toBe(false); // not anchored yet
    const tx = await wallet.writeContract({ address, abi: recordAnchorAbi, functionName: 'anchor', args: [batch.root, leaves.length, buildBatchManifest(leaves, batch).digest] });
    expect((await client.waitForTransactionReceipt({ hash: tx })).status).toBe('success');
    for (let i = 0; i < leaves.length; i++) expect(await verify(i)).toBe(true);
    expect(await verify(3, leafHash({ ...leaves[3]!, version: 99 }))).toBe(false);
    const [batchId] = await client.readContract({ address, abi: recordAnchorAbi, functionName: 'anchoredAt', args: [batch.root] });
    expect(batchId).toBe(1n);
  });
});
