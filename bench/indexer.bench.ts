// Indexer benchmark: `node --import tsx bench/indexer.bench.ts` (or `npm run bench`).
//
// 1. Backlog: on a fresh anvil, 10,000 PatientRegistered (10,000 impersonated senders) and
//    2,000 EncryptionKeyRotated events from the real PatientRegistry, 250 transactions a block.
//    - indexer.baseline_getlogs_events_per_s: the same logs fetched (and decoded) with viem
//      getLogs in the same pages, nothing stored: the ceiling the RPC sets.
//    - indexer.events_per_s: the indexer (SQLite file, the embedded default) from an empty
//      store to the head: logs, block timestamps, handlers, one transaction per page.
// 2. Lag: another anvil mining a block every second, the indexer following it with
//    CONFIRMATIONS=0 while a steady stream of registrations arrives.
//    - indexer.lag_blocks: the most blocks the checkpoint was behind the head (sampled every 100 ms).
//    - indexer.lag_load_events_per_s: the event rate that was actually mined meanwhile.
// Figures go to stdout, one `name: value unit` line each; details go to stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { SqliteStore } from '@consentry/workers/src/db/sqlite-store.ts';
import { createIndexer } from '@consentry/workers/src/indexer/indexer.ts';
import { patientRegistryEvents } from '@consentry/workers/src/indexer/mappings/patient-registry.ts';
import {
  mineScript,
  startTestChain,
  testKey,
  testPatient,
  type ScriptedTx,
  type TestChain,
} from '@consentry/workers/src/indexer/testing/chain.ts';
import { encodeFunctionData, numberToHex, type Address } from 'viem';

const REGISTRATIONS = 10_000;
const ROTATIONS = 2_000;
const PER_BLOCK = 250;
const PAGE_SIZE = 1000; // the indexer's default
const LAG_SECONDS = 30;
const LAG_EVENTS_PER_S = 40;
const LAG_POLL_MS = 250;

const note = (line: string) => process.stderr.write(`# ${line}\n`);
const figure = (name: string, value: number, unit: string) => process.stdout.write(`${name}: ${value} ${unit}\n`);
const round = (n: number) => (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10);

async function backlog(chain: TestChain): Promise<{ registry: Address; startBlock: number; head: number }> {
  const deployment = await chain.deploy();
  const registry = deployment.contracts.PatientRegistry.address;
  const patients = Array.from({ length: REGISTRATIONS }, (_, i) => testPatient(`bench-${i}`));
  const blocks: ScriptedTx[][] = [];
  for (let i = 0; i < REGISTRATIONS; i += PER_BLOCK) {
    blocks.push(patients.slice(i, i + PER_BLOCK).map((p, j) => ({ kind: 'register', patient: p, key: testKey(`bench-${i + j}`) })));
  }
  for (let i = 0; i < ROTATIONS; i += PER_BLOCK) {
    blocks.push(patients.slice(i, i + PER_BLOCK).map((p, j) => ({ kind: 'rotate', patient: p, key: testKey(`bench-r-${i + j}`) })));
  }
  const mined = await mineScript(chain, registry, blocks);
  return { registry, startBlock: deployment.contracts.PatientRegistry.startBlock, head: mined[mined.length - 1]! };
}

async function baselineGetLogs(chain: TestChain, registry: Address, startBlock: number, head: number): Promise<{ events: number; seconds: number }> {
  const t0 = performance.now();
  let events = 0;
  for (let from = startBlock; from <= head; from += PAGE_SIZE) {
    const logs = await chain.client.getLogs({
      address: registry,
      events: patientRegistryEvents,
      fromBlock: BigInt(from),
      toBlock: BigInt(Math.min(from + PAGE_SIZE - 1, head)),
      strict: true,
    });
    events += logs.length;
  }
  return { events, seconds: (performance.now() - t0) / 1000 };
}

async function throughput(): Promise<void> {
  const chain = await startTestChain();
  const dir = mkdtempSync(join(tmpdir(), 'consentry-bench-'));
  try {
    let t0 = performance.now();
    const { registry, startBlock, head } = await backlog(chain);
    note(`backlog: ${REGISTRATIONS + ROTATIONS} events in ${head - startBlock} blocks, prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    await baselineGetLogs(chain, registry, startBlock, head); // warm-up: anvil's caches, viem's decoder
    const base = await baselineGetLogs(chain, registry, startBlock, head);
    if (base.events !== REGISTRATIONS + ROTATIONS) throw new Error(`expected ${REGISTRATIONS + ROTATIONS} logs, got ${base.events}`);

    const store = SqliteStore.open(join(dir, 'indexer.sqlite'));
    const deployment = {
      chainId: 31337,
      startBlock,
      contracts: { PatientRegistry: { address: registry, startBlock } },
    };
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, pageSize: PAGE_SIZE });
    t0 = performance.now();
    const status = await indexer.syncToHead();
    const seconds = (performance.now() - t0) / 1000;
    const stored = (await store.count('PatientRegistered')) + (await store.count('EncryptionKeyRotated'));
    await store.close();
    if (status.events !== base.events || stored !== base.events || status.checkpoint?.number !== head) {
      throw new Error(`indexer stored ${stored} of ${base.events} events (checkpoint ${status.checkpoint?.number}, head ${head})`);
    }
    note(`indexer: ${status.events} events, ${status.pages} page(s) of ${PAGE_SIZE} blocks, SQLite, ${seconds.toFixed(2)} s; getLogs alone ${base.seconds.toFixed(2)} s`);
    figure('indexer.events_per_s', round(status.events / seconds), 'events/s');
    figure('indexer.baseline_getlogs_events_per_s', round(base.events / base.seconds), 'events/s');
  } finally {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function lag(): Promise<void> {
  const chain = await startTestChain({ blockTime: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'consentry-bench-'));
  try {
    const deployment = await chain.deploy();
    const registry = deployment.contracts.PatientRegistry.address;
    const total = LAG_SECONDS * LAG_EVENTS_PER_S;
    const senders = Array.from({ length: total }, (_, i) => testPatient(`lag-${i}`));
    await chain.rpc('anvil_autoImpersonateAccount', [true]);
    for (let i = 0; i < senders.length; i += 500) {
      await chain.rpcBatch(senders.slice(i, i + 500).map((a) => ({ method: 'anvil_setBalance', params: [a, numberToHex(10n ** 18n)] })));
    }

    const store = SqliteStore.open(join(dir, 'indexer.sqlite'));
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, pollIntervalMs: LAG_POLL_MS });
    indexer.start();
    await indexer.waitForBlock(Number(await chain.client.getBlockNumber()), 30_000);

    const firstBlock = Number(await chain.client.getBlockNumber()) + 1;
    const samples: number[] = [];
    const started = performance.now();
    let sent = 0;
    const tick = 100;
    const perTick = (LAG_EVENTS_PER_S * tick) / 1000;
    while (performance.now() - started < LAG_SECONDS * 1000) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * LAG_EVENTS_PER_S + perTick));
      if (due > sent) {
        await chain.rpcBatch(
          senders.slice(sent, due).map((from, i) => ({
            method: 'eth_sendTransaction',
            params: [
              {
                from,
                to: registry,
                gas: numberToHex(120_000),
                data: encodeFunctionData({ abi: patientRegistryAbi, functionName: 'register', args: [testKey(`lag-${sent + i}`)] }),
              },
            ],
          })),
        );
        sent = due;
      }
      const head = Number(await chain.client.getBlockNumber());
      const at = indexer.status().checkpoint?.number ?? 0;
      samples.push(Math.max(0, head - at));
      await new Promise((r) => setTimeout(r, tick));
    }
    const lastBlock = Number(await chain.client.getBlockNumber());
    await indexer.waitForBlock(lastBlock, 30_000);
    await indexer.stop();
    const mined = await chain.client.getLogs({ address: registry, fromBlock: BigInt(firstBlock), toBlock: BigInt(lastBlock) });
    const span = await Promise.all([firstBlock - 1, lastBlock].map((n) => chain.client.getBlock({ blockNumber: BigInt(n) })));
    const seconds = Number(span[1]!.timestamp - span[0]!.timestamp);
    const indexed = await store.count('PatientRegistered');
    await store.close();
    if (indexed !== mined.length) throw new Error(`indexed ${indexed} of ${mined.length} events under load`);

    const sorted = [...samples].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    note(`lag: ${samples.length} samples over ${LAG_SECONDS} s (1 s blocks, CONFIRMATIONS=0, poll ${LAG_POLL_MS} ms): p50 ${p(0.5)}, p95 ${p(0.95)}, max ${sorted[sorted.length - 1]} blocks; ${mined.length} events in ${lastBlock - firstBlock + 1} blocks`);
    figure('indexer.lag_blocks', sorted[sorted.length - 1]!, 'blocks');
    figure('indexer.lag_load_events_per_s', round(mined.length / Math.max(1, seconds)), 'events/s');
  } finally {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await throughput();
await lag();
