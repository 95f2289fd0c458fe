// A local chain for indexer tests and the benchmark: anvil on a free port, PatientRegistry
// deployed into a temp deployments dir, and quick ways to write real PatientRegistry history.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import type { Deployment } from '@consentry/sdk/deployment';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import {
  createPublicClient,
  encodeFunctionData,
  http,
  keccak256,
  numberToHex,
  toHex,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { deployContracts } from '../../../../contracts/script/deploy.ts';

export type TestChain = {
  anvil: AnvilInstance;
  rpcUrl: string;
  client: PublicClient;
  /** Raw JSON-RPC, batched: one HTTP request for all of `calls`. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  rpcBatch(calls: Array<{ method: string; params: unknown[] }>): Promise<unknown[]>;
  /** Deploys a fresh PatientRegistry (its own deployments dir). */
  deploy(): Promise<Deployment & { deploymentsDir: string }>;
  stop(): Promise<void>;
};

export async function startTestChain(opts: { blockTime?: number } = {}): Promise<TestChain> {
  const anvil = await startAnvil(opts.blockTime !== undefined ? { blockTime: opts.blockTime } : {});
  const dirs: string[] = [];
  const client = createPublicClient({ transport: http(anvil.rpcUrl, { timeout: 60_000 }), cacheTime: 0 }) as PublicClient;
  let id = 0;
  async function post(body: unknown): Promise<unknown> {
    const res = await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return res.json();
  }
  type Reply = { id: number; result?: unknown; error?: { message: string } };
  const unwrap = (r: Reply, method: string) => {
    if (r.error) throw new Error(`${method}: ${r.error.message}`);
    return r.result;
  };
  return {
    anvil,
    rpcUrl: anvil.rpcUrl,
    client,
    async rpc<T>(method: string, params: unknown[] = []) {
      return unwrap((await post({ jsonrpc: '2.0', id: ++id, method, params })) as Reply, method) as T;
    },
    async rpcBatch(calls) {
      if (calls.length === 0) return [];
      const first = id + 1;
      const body = calls.map((c) => ({ jsonrpc: '2.0', id: ++id, method: c.method, params: c.params }));
      const replies = (await post(body)) as Reply[];
      const byId = new Map(replies.map((r) => [r.id, r]));
      return calls.map((c, i) => unwrap(byId.get(first + i)!, c.method));
    },
    async deploy() {
      const deploymentsDir = mkdtempSync(join(tmpdir(), 'consentry-deployments-'));
      dirs.push(deploymentsDir);
      const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, deploymentsDir });
      return { ...d, deploymentsDir };
    },
    async stop() {
      await anvil.stop();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** A valid X25519 public key, deterministic in `seed` (canonical: top bit clear; never 0 or 1). */
export function testKey(seed: string): Hex {
  const bytes = Buffer.from(keccak256(toHex(`consentry-test-key:${seed}`)).slice(2), 'hex');
  bytes[31]! &= 0x3f;
  bytes[0]! |= 0x09;
  return `0x${bytes.toString('hex')}`;
}

/** A deterministic throwaway patient address (not one of anvil's funded accounts). */
export function testPatient(seed: string): Address {
  return `0x${keccak256(toHex(`consentry-test-patient:${seed}`)).slice(-40)}` as Address;
}

export type ScriptedTx =
  | { kind: 'register'; patient: Address; key: Hex }
  | { kind: 'rotate'; patient: Address; key: Hex };

/**
 * Mines `blocks` in order: each inner list becomes one block holding those transactions, sent
 * from impersonated patient addresses (at most one per sender per block, and at most ~300 per
 * block so they fit the gas limit). Returns the mined block numbers. Every transaction must
 * succeed (checked through the receipts' status).
 */
export async function mineScript(chain: TestChain, registry: Address, blocks: ScriptedTx[][]): Promise<number[]> {
  const senders = [...new Set(blocks.flat().map((t) => t.patient.toLowerCase()))];
  await chain.rpc('anvil_autoImpersonateAccount', [true]);
  for (let i = 0; i < senders.length; i += 500) {
    await chain.rpcBatch(
      senders.slice(i, i + 500).map((a) => ({ method: 'anvil_setBalance', params: [a, numberToHex(10n ** 18n)] })),
    );
  }
  await chain.rpc('evm_setAutomine', [false]);
  const mined: number[] = [];
  const hashes: Hex[] = [];
  try {
    for (const txs of blocks) {
      for (let i = 0; i < txs.length; i += 500) {
        const sent = await chain.rpcBatch(
          txs.slice(i, i + 500).map((t) => ({
            method: 'eth_sendTransaction',
            params: [
              {
                from: t.patient,
                to: registry,
                gas: numberToHex(120_000),
                maxFeePerGas: numberToHex(50_000_000_000n),
                maxPriorityFeePerGas: numberToHex(1n),
                data: encodeFunctionData({
                  abi: patientRegistryAbi,
                  functionName: t.kind === 'register' ? 'register' : 'rotateEncryptionKey',
                  args: [t.key],
                }),
              },
            ],
          })),
        );
        hashes.push(...(sent as Hex[]));
      }
      // Blocks 12 s apart, so timestamps tell blocks apart.
      await chain.rpc('evm_increaseTime', [12]);
      await chain.rpc('evm_mine', []);
      mined.push(Number(await chain.client.getBlockNumber()));
    }
  } finally {
    await chain.rpc('evm_setAutomine', [true]);
  }
  for (let i = 0; i < hashes.length; i += 500) {
    const receipts = (await chain.rpcBatch(
      hashes.slice(i, i + 500).map((h) => ({ method: 'eth_getTransactionReceipt', params: [h] })),
    )) as Array<{ status: Hex; blockNumber: Hex } | null>;
    const bad = receipts.findIndex((r) => r === null || r.status !== '0x1');
    if (bad !== -1) throw new Error(`scripted transaction ${hashes[i + bad]} failed or was not mined`);
  }
  return mined;
}

/** Mines `n` empty blocks. */
export async function mineEmpty(chain: TestChain, n: number): Promise<number> {
  await chain.rpc('anvil_mine', [numberToHex(n)]);
  return Number(await chain.client.getBlockNumber());
}
