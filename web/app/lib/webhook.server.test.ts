// The webhook API as a signed-in patient calls it (web/app/routes/api.webhook.ts), on a real anvil
// (the chain head at setting time) and the notifier's real tables under a temporary DATA_DIR:
// set (secret shown once), show (never the secret), replace, refuse bad URLs in words, clear.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { NotifyStore } from '@consentry/workers/src/notify/store.ts';
import { action, loader } from '../routes/api.webhook.ts';
import { signIn } from './session.server.ts';

let anvil: AnvilInstance;
let dir: string;
let cookie: string;
const patient = ANVIL_ACCOUNTS[1]!;

beforeAll(async () => {
  anvil = await startAnvil();
  dir = mkdtempSync(join(tmpdir(), 'consentry-webhook-'));
  process.env.DATA_DIR = dir;
  process.env.RPC_URL = anvil.rpcUrl;
  // No contracts on this chain: a wallet signs in as its own account (session.server.ts asks no registry).
  process.env.DEPLOYMENTS_DIR = dir;
  const issuedAt = Math.floor(Date.now() / 1000);
  const signature = await privateKeyToAccount(patient.privateKey).signTypedData(sessionTypedData(31337, patient.address, issuedAt));
  cookie = (await signIn({ address: patient.address, issuedAt, signature })).cookie.split(';')[0]!;
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const call = async (method: string, body?: unknown, withCookie = true) => {
  const request = new Request('http://127.0.0.1/api/webhook', {
    method,
    headers: { 'content-type': 'application/json', ...(withCookie ? { cookie } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const res = method === 'GET' ? await loader({ request, params: {}, context: {} }) : await action({ request, params: {}, context: {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('/api/webhook', () => {
  it('sets, shows, replaces and clears the signed-in patient\'s webhook', async () => {
    expect(await call('GET', undefined, false)).toMatchObject({ status: 401, body: { error: { code: 'NOT_SIGNED_IN' } } });
    expect(await call('GET')).toEqual({ status: 200, body: { webhook: null } });

    const set = await call('POST', { url: 'http://127.0.0.1:9999/hook' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ webhook: { url: 'http://127.0.0.1:9999/hook', fromBlock: expect.any(Number) }, secret: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const shown = await call('GET');
    expect(shown.body).toEqual({ webhook: set.body.webhook });
    expect(JSON.stringify(shown.body)).not.toContain(set.body.secret as string);

    const replaced = await call('POST', { url: 'https://hooks.example.org/consentry' });
    expect(replaced.body.secret).not.toBe(set.body.secret);
    // The notifier signs with what the store holds: the new secret.
    const store = await NotifyStore.open({ dataDir: dir });
    expect((await store.webhookRow(patient.address))!.secret).toBe(replaced.body.secret);
    await store.close();

    expect(await call('POST', { url: 'ftp://example.org/' })).toMatchObject({ status: 400, body: { error: { code: 'WEBHOOK_URL_INVALID', message: expect.stringMatching(/http\(s\)/) } } });
    expect(await call('POST', { url: 'http://169.254.169.254/' })).toMatchObject({ status: 400, body: { error: { code: 'WEBHOOK_URL_INTERNAL' } } });
    expect(await call('POST', { nope: 1 })).toMatchObject({ status: 400, body: { error: { code: 'BAD_WEBHOOK' } } });
    expect(await call('PUT', {})).toMatchObject({ status: 405 });

    expect(await call('DELETE')).toEqual({ status: 200, body: { cleared: true } });
    expect(await call('DELETE')).toEqual({ status: 200, body: { cleared: false } });
    expect(await call('GET')).toEqual({ status: 200, body: { webhook: null } });
  });
});
