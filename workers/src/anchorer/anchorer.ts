/**
 * The anchorer: queues record leaves and anchors them in batches, one RecordAnchor.anchor
 * transaction per batch, flushed when `maxBatch` leaves are waiting or the oldest has waited
 * `maxAgeMs`. A batch that fails (revert, dropped or timed-out transaction, RPC down) stays queued
 * and is retried; before sending again the anchorer asks the chain whether the root is already
 * anchored, so a transaction that did land is never anchored twice.
 *
 * Each batch's manifest (sdk/src/anchor/manifest.ts: leaf hashes, record ids, versions) is put in
 * the blob store before the transaction is sent, and the transaction names it by its sha2-256
 * digest, so an indexer that sees the BatchAnchored event can always find the manifest. A batch
 * whose manifest cannot be stored is not sent; it stays queued like any failed batch.
 */
import { pino, type Logger } from 'pino';
import type { Hex } from 'viem';
import { recordAnchorAbi } from '@consentry/sdk/abi/generated';
import { buildBatch, type RecordLeaf } from '@consentry/sdk/anchor/leaf';
import { buildBatchManifest } from '@consentry/sdk/anchor/manifest';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor, rpcOrigin, walletClientFor } from '@consentry/sdk/clients';
import type { Deployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';

/** RecordAnchor.anchor costs ~52k gas whatever the batch size; estimation is skipped on purpose. */
const ANCHOR_GAS = 150_000n;

export interface AnchoredBatch {
  root: Hex;
  batchId: bigint;
  txHash: Hex;
  blockNumber: bigint;
  leaves: RecordLeaf[];
  /** proofs[i] proves leaves[i] against root. */
  proofs: Hex[][];
  /** CID of the batch manifest in the blob store (its digest is in the BatchAnchored event). */
  manifestCid: string;
}

export interface AnchorerOptions {
  rpcUrl: string;
  privateKey: Hex;
  deployment: Deployment;
  /** Where batch manifests go (the store indexers read them from). */
  blobs: BlobStore;
  /** Flush as soon as this many leaves wait (default 1024). */
  maxBatch?: number;
  /** Flush when the oldest leaf has waited this long (default 30 s); 0 disables the timer. */
  maxAgeMs?: number;
  /** How long to wait for a receipt before treating the transaction as dropped (default 60 s). */
  receiptTimeoutMs?: number;
  logger?: Logger;
  /** Called for every anchored batch (e.g. to store the proofs with the records). */
  onAnchored?: (batch: AnchoredBatch) => void | Promise<void>;
}

export class AnchorError extends ConsentryError {}

export interface Anchorer {
  enqueue(leaf: RecordLeaf): void;
  /** Anchors everything queued now (in batches of maxBatch); resolves with the batches anchored. */
  flush(): Promise<AnchoredBatch[]>;
  pending(): number;
  stop(): Promise<void>;
}

export function createAnchorer(opts: AnchorerOptions): Anchorer {
  const address = opts.deployment.contracts.RecordAnchor?.address;
  if (!address) throw new AnchorError('DEPLOYMENT_INVALID', 'The deployment has no RecordAnchor: deploy again (`npm start`)');
  const maxBatch = opts.maxBatch ?? 1024;
  const maxAgeMs = opts.maxAgeMs ?? 30_000;
  const log = opts.logger ?? pino({ level: 'silent' });
  const chainId = opts.deployment.chainId;
  const client = publicClientFor(opts.rpcUrl, chainId, { retryCount: 1 });
  const wallet = walletClientFor(opts.rpcUrl, chainId, opts.privateKey);
  const queue: RecordLeaf[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<AnchoredBatch[]> = Promise.resolve([]);

  async function findAnchor(root: Hex): Promise<Omit<AnchoredBatch, 'leaves' | 'proofs' | 'manifestCid'>> {
    const [log] = await client.getContractEvents({
      address: address!,
      abi: recordAnchorAbi,
      eventName: 'BatchAnchored',
      args: { root },
      fromBlock: BigInt(opts.deployment.contracts.RecordAnchor!.startBlock),
    });
    if (!log) throw new AnchorError('ANCHOR_NOT_FOUND', `Root ${root} is anchored but its BatchAnchored event was not found`);
    return { root, batchId: log.args.batchId!, txHash: log.transactionHash, blockNumber: log.blockNumber };
  }

  async function anchorOne(leaves: RecordLeaf[]): Promise<AnchoredBatch> {
    const batch = buildBatch(leaves);
    const { root, proofs } = batch;
    const manifest = buildBatchManifest(leaves, batch);
    let manifestCid: string;
    try {
      // Idempotent (content-addressed); stored even when the root turns out to be anchored already,
      // so a batch anchored before a crash still gets its manifest.
      manifestCid = await opts.blobs.put(manifest.bytes);
    } catch (cause) {
      throw new AnchorError('ANCHOR_MANIFEST_FAILED', `Storing the batch manifest failed; its leaves stay queued: ${String(cause)}`, { cause });
    }
    const already = async () => {
      const [batchId] = await client.readContract({ address: address!, abi: recordAnchorAbi, functionName: 'anchoredAt', args: [root] });
      return batchId;
    };
    // The same leaves give the same root: if it is anchored (a transaction that landed before a
    // crash or a timeout), these leaves are anchored; find that transaction rather than send another.
    if ((await already()) !== 0n) return { ...(await findAnchor(root)), leaves, proofs, manifestCid };
    const txHash = await wallet.writeContract({
      address: address!,
      abi: recordAnchorAbi,
      functionName: 'anchor',
      args: [root, leaves.length, manifest.digest],
      gas: ANCHOR_GAS,
    });
    let receipt;
    try {
      receipt = await client.waitForTransactionReceipt({ hash: txHash, timeout: opts.receiptTimeoutMs ?? 60_000 });
    } catch (cause) {
      // Dropped or slow: if it landed after all, the chain says so and we use that.
      if ((await already().catch(() => 0n)) !== 0n) return { ...(await findAnchor(root)), leaves, proofs, manifestCid };
      throw new AnchorError('ANCHOR_DROPPED', `The anchor transaction ${txHash} was not mined in time; its leaves stay queued`, { cause });
    }
    if (receipt.status !== 'success') {
      throw new AnchorError('ANCHOR_REVERTED', `The anchor transaction ${txHash} reverted; its leaves stay queued`);
    }
    const batchId = await already();
    return { root, batchId, txHash, blockNumber: receipt.blockNumber, leaves, proofs, manifestCid };
  }

  async function drain(): Promise<AnchoredBatch[]> {
    const done: AnchoredBatch[] = [];
    while (queue.length > 0) {
      const leaves = queue.slice(0, maxBatch);
      let batch: AnchoredBatch;
      try {
        batch = await anchorOne(leaves);
      } catch (err) {
        const message = err instanceof Error ? err.message.split(opts.rpcUrl).join(rpcOrigin(opts.rpcUrl)) : String(err);
        log.warn({ leaves: leaves.length, err: message }, 'anchoring failed; leaves stay queued');
        if (err instanceof AnchorError) throw err;
        throw new AnchorError('ANCHOR_FAILED', `Anchoring ${leaves.length} leaves failed; they stay queued: ${message}`, { cause: err });
      }
      queue.splice(0, leaves.length); // only now: a failure above leaves them queued
      log.info({ batchId: batch.batchId.toString(), leaves: leaves.length, tx: batch.txHash }, 'anchored a batch');
      await opts.onAnchored?.(batch);
      done.push(batch);
    }
    return done;
  }

  const flush = (): Promise<AnchoredBatch[]> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    // One flush at a time: a second caller waits for the first, then drains what is left.
    running = running.catch(() => []).then(drain);
    return running;
  };

  const scheduleAgeFlush = () => {
    if (maxAgeMs > 0 && !timer) {
      timer = setTimeout(() => {
        timer = undefined;
        flush().catch(() => scheduleAgeFlush());
      }, maxAgeMs);
      timer.unref();
    }
  };

  return {
    enqueue(leaf) {
      queue.push(leaf);
      if (queue.length >= maxBatch) flush().catch(() => scheduleAgeFlush());
      else scheduleAgeFlush();
    },
    flush,
    pending: () => queue.length,
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running.catch(() => []);
    },
  };
}
