// The indexer service as a real process (main.ts): start-up problems are reported in words
// (with a stable code) and SIGTERM stops it cleanly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@consentry/sdk/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestChain, type TestChain } from './testing/chain.ts';
import { killServices, startService } from './testing/service.ts';

let chain: TestChain;

beforeAll(async () => {
  chain = await startTestChain();
}, 30_000);

afterAll(async () => {
  killServices();
  await chain?.stop();
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

  it('says so when the RPC is unreachable, without the URL path (where API keys live)', async () => {
    const { env } = await base();
    const s = startService({ ...env, RPC_URL: `http://127.0.0.1:${await freePort()}/v3/secret-api-key` });
    expect(await s.exited).toBe(1);
    const fatal = s.lines.find((l) => l.level === 60);
    expect(fatal).toMatchObject({ code: 'RPC_UNREACHABLE' });
    expect(String(fatal?.msg)).toMatch(/Cannot reach the chain at http:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.stringify(s.lines)).not.toContain('secret-api-key');
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
