import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import type { Address, Hex } from 'viem';
import { REPO_ROOT } from '../config.ts';
import { freePort } from '../net.ts';

/** The default anvil development keys (public knowledge; for the local chain only). */
const ANVIL_KEYS: readonly Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
];

/** The 10 default anvil accounts: private key and address. */
export const ANVIL_ACCOUNTS: ReadonlyArray<{ privateKey: Hex; address: Address }> = ANVIL_KEYS.map((privateKey) => ({
  privateKey,
  address: privateKeyToAccount(privateKey).address,
}));

export interface AnvilOptions {
  /** Seconds between blocks; omit for automine (a block per transaction). */
  blockTime?: number;
  port?: number;
  chainId?: number;
  /** Keep chain state in this file across restarts (anvil --state). */
  stateFile?: string;
}

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const ANVIL_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'anvil');

/**
 * Starts anvil on 127.0.0.1 (a free port unless given) and waits until it says it listens and
 * answers JSON-RPC. Its own "Listening on" line is awaited, not just any answer on the port: a port
 * found free a moment ago may have been taken by another process meanwhile, and that one's answers
 * must not be mistaken for ours. Without a given port, such a start is retried on another port.
 */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilInstance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startAnvilOnce(opts, opts.port ?? (await freePort()));
    } catch (err) {
      const taken = err instanceof Error && /in use|AddrInUse|address already/i.test(err.message);
      if (opts.port !== undefined || !taken || attempt >= 3) throw err;
    }
  }
}

async function startAnvilOnce(opts: AnvilOptions, port: number): Promise<AnvilInstance> {
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(opts.chainId ?? 31337)];
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  // Dumped on exit and every 10 s, so a crash loses at most the last few seconds of the local chain.
  if (opts.stateFile) args.push('--state', opts.stateFile, '--state-interval', '10');
  // Own process group: a terminal's Ctrl-C reaches the stack first, which then stops anvil
  // last (so its state is dumped after the indexer and web app are down).
  const child = spawn(ANVIL_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  let stdout = '';
  let listening = false;
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.on('data', (d: Buffer) => {
    if (listening) return;
    stdout = (stdout + d.toString()).slice(-4096);
    if (stdout.includes(`Listening on 127.0.0.1:${port}`)) listening = true;
  });
  child.stdout?.resume();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited (${child.exitCode}) on port ${port}: ${(stderr + stdout).trim().slice(-2000)}`);
    if (listening) {
      try {
        const res = await fetch(rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
          signal: AbortSignal.timeout(1000),
        });
        if (res.ok && child.exitCode === null) break;
      } catch {
        // not up yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil did not answer on ${rpcUrl} within 20 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    rpcUrl,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
