import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@consentry/sdk/net';
import { startAnvil } from '@consentry/sdk/testing/anvil';
import { startStack } from './stack.ts';

// Start-up failures must be clear and must leave nothing running. (The happy path is the e2e journey.)
describe('startStack refuses to start, in words', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-stack-'));
  const env = (extra: Record<string, string>) => ({
    DATA_DIR: join(dir, 'data'),
    DEPLOYMENTS_DIR: join(dir, 'deployments'),
    RPC_URL: '',
    ...extra,
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when the chain port is taken', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      await expect(
        startStack({ env: env({ ANVIL_PORT: String(port), INDEXER_PORT: String(await freePort()), WEB_PORT: String(await freePort()) }), log: () => {} }),
      ).rejects.toMatchObject({ code: 'PORT_TAKEN', message: expect.stringContaining(`Port ${port}`) });
    } finally {
      blocker.close();
    }
  });

  it('when the web port is taken (and it stops the chain it started)', async () => {
    const port = await freePort();
    const anvilPort = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      await expect(
        startStack({ env: env({ ANVIL_PORT: String(anvilPort), INDEXER_PORT: String(await freePort()), WEB_PORT: String(port) }), log: () => {} }),
      ).rejects.toMatchObject({ code: 'PORT_TAKEN', message: expect.stringContaining('WEB_PORT') });
    } finally {
      blocker.close();
    }
    // The anvil it started on anvilPort is gone again: nothing answers JSON-RPC there.
    await expect(
      fetch(`http://127.0.0.1:${anvilPort}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      }),
    ).rejects.toThrow();
  });

  it('when the RPC is unreachable', async () => {
    await expect(
      startStack({ env: env({ RPC_URL: 'http://127.0.0.1:9' }), ephemeralPorts: true, log: () => {} }),
    ).rejects.toMatchObject({ code: 'RPC_UNREACHABLE', message: expect.stringContaining('http://127.0.0.1:9') });
  });

  it('when the chain id is wrong', async () => {
    const anvil = await startAnvil();
    try {
      await expect(
        startStack({ env: env({ RPC_URL: anvil.rpcUrl, CHAIN_ID: '5' }), ephemeralPorts: true, log: () => {} }),
      ).rejects.toMatchObject({ code: 'CHAIN_ID_MISMATCH', message: expect.stringContaining('CHAIN_ID is 5') });
    } finally {
      await anvil.stop();
    }
  });

  it('when the configuration is invalid', async () => {
    await expect(startStack({ env: env({ CONFIRMATIONS: '-1' }), log: () => {} })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
