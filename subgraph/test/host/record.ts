/**
 * Records a chain's logs with everything graph-node passes a handler: the full block header
 * and the transaction of each log. The result is plain data (RecordedLog[]) that runMappings
 * takes, and that can be saved as a JSON fixture (quantities as strings).
 */
import { createPublicClient, http, type Address, type Hex } from 'viem';
import type { RecordedLog } from './ethereum.ts';

export interface RecordOptions {
  fromBlock: number;
  toBlock: number;
  /** Only these contracts' logs; all logs in the range when omitted. */
  address?: Address | Address[];
}

/** Every log in the range, with its block header and transaction, in chain order. */
export async function recordLogs(rpcUrl: string, opts: RecordOptions): Promise<RecordedLog[]> {
  const client = createPublicClient({ transport: http(rpcUrl, { batch: true, timeout: 30_000 }) });
  const logs = await client.getLogs({
    fromBlock: BigInt(opts.fromBlock),
    toBlock: BigInt(opts.toBlock),
    ...(opts.address ? { address: opts.address } : {}),
  });
  const blockNumbers = [...new Set(logs.map((l) => l.blockNumber))];
  const txHashes = [...new Set(logs.map((l) => l.transactionHash))];
  const [blocks, txs] = await Promise.all([
    Promise.all(blockNumbers.map((n) => client.getBlock({ blockNumber: n }))),
    Promise.all(txHashes.map((hash) => client.getTransaction({ hash }))),
  ]);
  const blockBy = new Map(blocks.map((b) => [b.number, b]));
  const txBy = new Map(txs.map((t) => [t.hash, t]));

  return logs.map((l): RecordedLog => {
    const b = blockBy.get(l.blockNumber)!;
    const t = txBy.get(l.transactionHash)!;
    return {
      address: l.address,
      topics: l.topics as Hex[],
      data: l.data,
      logIndex: l.logIndex,
      removed: l.removed,
      block: {
        number: b.number,
        hash: b.hash,
        parentHash: b.parentHash,
        timestamp: b.timestamp,
        unclesHash: b.sha3Uncles,
        author: b.miner,
        stateRoot: b.stateRoot,
        transactionsRoot: b.transactionsRoot,
        receiptsRoot: b.receiptsRoot,
        gasUsed: b.gasUsed,
        gasLimit: b.gasLimit,
        difficulty: b.difficulty,
        totalDifficulty: b.totalDifficulty ?? 0n,
        size: b.size,
        baseFeePerGas: b.baseFeePerGas ?? null,
      },
      transaction: {
        hash: t.hash,
        index: t.transactionIndex ?? 0,
        from: t.from,
        to: t.to ?? null,
        value: t.value,
        gasLimit: t.gas,
        gasPrice: t.gasPrice ?? 0n,
        input: t.input,
        nonce: BigInt(t.nonce),
      },
    };
  });
}
