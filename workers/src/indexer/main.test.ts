// The indexer service as a real process (main.ts): killed with SIGKILL in the middle of a backlog
// and restarted, it loses and doubles nothing; SIGTERM stops it cleanly; start-up problems are
// reported in words. Runs on every store kind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@consentry/sdk/config';
import { freePort } from '@consentry/sdk/net';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpEntities } from './dump.ts';
import { mineScript, startTestChain, testKey, testPatient, type ScriptedTx, type TestChain } from './testing/chain.ts';
import { expectedDump } from './testing/expected.ts';
import { openFromEnv, storeKinds } from './testing/stores.ts';

const MAIN = join(REPO_ROOT, 'workers', 'src', 'indexer', 'main.ts');

let chain: TestChain;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  chain = await startTestChain();
}, 30_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await chain?.stop();
});

type Service = {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  /** Resolves with the first log line that matches. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
};

function startService(env: Record<string, string>): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: Array<Record<string, unknown>> = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        lines.push({ msg: p });
      }
    }
    for (const l of listeners) l();
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitForLine(match, timeoutMs = 45_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found) {
            done();
            resolve(found);
          } else if (child.exitCode !== null) {
            done();
            reject(new Error(`indexer exited (${child.exitCode}): ${JSON.stringify(lines.slice(-5))} ${stderr.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching log line in ${timeoutMs} ms: ${JSON.stringify(lines.slice(-5))} ${stderr.slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        child.once('exit', check);
        check();
      });
    },
  };
}

async function health(port: number): Promise<{ checkpoint: { number: number } | null; head: number | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return (await res.json()) as { checkpoint: { number: number } | null; head: number | null };
}

describe.each(storeKinds())('indexer service on $name', (kind) => {
  let deployment: Awaited<ReturnType<TestChain['deploy']>>;
  let registry: Address;
  let head: number;

  beforeAll(async () => {
    deployment = await chain.deploy();
    registry = deployment.contracts.PatientRegistry.address;
    // A backlog of 100 blocks: 60 of 10 registrations, then 40 of 10 key rotations.
    const patients = Array.from({ length: 600 }, (_, i) => testPatient(`crash-${kind.name}-${i}`));
    const blocks: ScriptedTx[][] = [];
    for (let b = 0; b < 60; b++) {
      blocks.push(patients.slice(b * 10, b * 10 + 10).map((p, i) => ({ kind: 'register', patient: p, key: testKey(`c-${kind.name}-${b}-${i}`) })));
    }
    for (let b = 0; b < 40; b++) {
      blocks.push(patients.slice(b * 15, b * 15 + 10).map((p, i) => ({ kind: 'rotate', patient: p, key: testKey(`c-${kind.name}-r${b}-${i}`) })));
    }
    const mined = await mineScript(chain, registry, blocks);
    head = mined[mined.length - 1]!;
  }, 60_000);

  afterAll(async () => {
    await kind.cleanup();
  });

  it('survives SIGKILL in the middle of a backlog: no lost or doubled rows after a restart', async () => {
    const env = {
      RPC_URL: chain.rpcUrl,
      CHAIN_ID: '31337',
      DEPLOYMENTS_DIR: deployment.deploymentsDir,
      CONFIRMATIONS: '0',
      INDEXER_PORT: '0',
      INDEXER_PAGE_SIZE: '1',
      INDEXER_POLL_MS: '50',
      LOG_LEVEL: 'debug',
      ...(await kind.childEnv()),
    };
    const first = startService(env);
    await first.waitForLine((l) => l.msg === 'page indexed' && Number(l.to) >= deployment.startBlock + 5);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull(); // killed, not exited

    // Whatever page was in flight is either all there or not at all.
    let store = await openFromEnv(env);
    const state = await store.readState();
    const at = state!.checkpoint!.number;
    expect(at).toBeGreaterThanOrEqual(deployment.startBlock + 5);
    expect(at).toBeLessThan(head);
    expect(await dumpEntities(store)).toEqual(await expectedDump(chain.client, registry, deployment.startBlock, at));
    await store.close();

    const second = startService(env);
    const resumed = await second.waitForLine((l) => l.msg === 'indexer ready');
    expect(resumed.checkpoint).toBe(at); // resumed, not started over
    const port = Number((await second.waitForLine((l) => l.msg === 'indexer listening')).port);
    const deadline = Date.now() + 45_000;
    while ((await health(port)).checkpoint?.number !== head) {
      if (Date.now() > deadline) throw new Error('the restarted indexer did not catch up');
      await new Promise((r) => setTimeout(r, 100));
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.lines.some((l) => l.msg === 'indexer stopped')).toBe(true);

    store = await openFromEnv(env);
    try {
      const dump = await dumpEntities(store);
      expect(dump.PatientRegistered).toHaveLength(600);
      expect(dump.EncryptionKeyRotated).toHaveLength(400);
      expect(dump.Patient).toHaveLength(600);
      expect(new Set(dump.PatientRegistered.map((e) => e.id)).size).toBe(600);
      expect(dump.Patient.reduce((n, p) => n + Number(p.keyRotations), 0)).toBe(400);
      expect(dump).toEqual(await expectedDump(chain.client, registry, deployment.startBlock, head));
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('indexer service start-up errors', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const base = async () => {
    const deployment = await chain.deploy();
    const data = mkdtempSync(join(tmpdir(), 'consentry-data-'));
    dirs.push(data);
    return { deployment, env: { CHAIN_ID: '31337', DEPLOYMENTS_DIR: deployment.deploymentsDir, DATA_DIR: data, INDEXER_PORT: '0' } };
  };

  it('says so when the RPC is unreachable', async () => {
    const { env } = await base();
    const s = startService({ ...env, RPC_URL: `http://127.0.0.1:${await freePort()}` });
    expect(await s.exited).toBe(1);
    const fatal = s.lines.find((l) => l.level === 60);
    expect(fatal).toMatchObject({ code: 'RPC_UNREACHABLE' });
    expect(String(fatal?.msg)).toMatch(/Cannot reach the chain/);
  }, 30_000);

  it('says so when the chain id differs from the deployment', async () => {
    const { deployment, env } = await base();
    writeFileSync(join(deployment.deploymentsDir, '999.json'), JSON.stringify({ ...deployment, chainId: 999, deploymentsDir: undefined }));
    const s = startService({ ...env, RPC_URL: chain.rpcUrl, CHAIN_ID: '999' });
    expect(await s.exited).toBe(1);
    const fatal = s.lines.find((l) => l.level === 60);
    expect(fatal).toMatchObject({ code: 'CHAIN_ID_MISMATCH' });
    expect(String(fatal?.msg)).toMatch(/has id 31337, but CHAIN_ID is 999/);
  }, 30_000);

  it('says so when the port is taken', async () => {
    const { env } = await base();
    const first = startService({ ...env, RPC_URL: chain.rpcUrl });
    const ready = await first.waitForLine((l) => l.msg === 'indexer listening');
    const second = startService({ ...env, DATA_DIR: `${env.DATA_DIR}-2`, RPC_URL: chain.rpcUrl, INDEXER_PORT: String(ready.port) });
    dirs.push(`${env.DATA_DIR}-2`);
    expect(await second.exited).toBe(1);
    expect(second.lines.find((l) => l.level === 60)).toMatchObject({ code: 'PORT_TAKEN' });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 30_000);
});
