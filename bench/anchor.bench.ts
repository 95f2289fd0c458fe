/**
 * Gas per anchored record, from real receipts on anvil: one RecordAnchor.anchor transaction per
 * batch, so the cost per record falls with the batch size. Batch 1 is the baseline (anchoring each
 * record on its own). The transaction carries the batch manifest's digest (32 bytes of calldata and
 * event data); storing the manifest blob itself is off chain and not measured here.
 *   anchor.gas_per_record_batch_1 / _64 / _1024   gas/record
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployContracts } from '../contracts/script/deploy.ts';
import { recordAnchorAbi } from '../sdk/src/abi/generated.ts';
import { buildBatch } from '../sdk/src/anchor/leaf.ts';
import { buildBatchManifest } from '../sdk/src/anchor/manifest.ts';
import { publicClientFor, walletClientFor } from '../sdk/src/clients.ts';
import { ANVIL_ACCOUNTS, startAnvil } from '../sdk/src/testing/anvil.ts';
import { syntheticLeaf } from '../sdk/src/testing/leaves.ts';

const anvil = await startAnvil();
const dir = mkdtempSync(join(tmpdir(), 'consentry-anchor-bench-'));
try {
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: 31337, deploymentsDir: dir });
  const address = deployment.contracts.RecordAnchor!.address;
  const client = publicClientFor(anvil.rpcUrl, 31337);
  const wallet = walletClientFor(anvil.rpcUrl, 31337, ANVIL_ACCOUNTS[1]!.privateKey);
  const patient = ANVIL_ACCOUNTS[1]!.address;
  let serial = 0;
  const leaf = () => syntheticLeaf(patient, ++serial);
  // Warm the batch counter once so every measured batch pays the same storage costs.
  const anchorBatch = async (size: number) => {
    const leaves = Array.from({ length: size }, leaf);
    const batch = buildBatch(leaves);
    const { digest } = buildBatchManifest(leaves, batch);
    const hash = await wallet.writeContract({ address, abi: recordAnchorAbi, functionName: 'anchor', args: [batch.root, size, digest], gas: 200_000n });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`anchor reverted (${hash})`);
    return Number(receipt.gasUsed);
  };
  await anchorBatch(1);
  for (const size of [1, 64, 1024]) {
    const gas = await anchorBatch(size);
    console.log(`anchor.gas_per_record_batch_${size}: ${(gas / size).toFixed(1)} gas/record`);
  }
} finally {
  await anvil.stop();
  rmSync(dir, { recursive: true, force: true });
}
