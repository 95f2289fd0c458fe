// Sessions without a chain to ask (the account resolution on a real chain, recovered wallets
// included, is in recovery.server.test.ts): the cookie carries the wallet and the account it acts
// for under one MAC; requireWallet and requirePatient read each; a tampered, truncated or expired
// cookie is a 401; without a deployment the wallet is its own account; with a deployment whose chain
// cannot be read, sign-in is refused in words rather than guessing the account.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';

const dataDir = mkdtempSync(join(tmpdir(), 'consentry-session-'));
const noDeployment = join(dataDir, 'none');
Object.assign(process.env, { DATA_DIR: dataDir, CHAIN_ID: '31337', DEPLOYMENTS_DIR: noDeployment, RPC_URL: 'http://127.0.0.1:9', DATABASE_URL: '' });
const { requirePatient, requireSession, requireWallet, signIn, ApiError } = await import('./session.server.ts');

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const wallet = privateKeyToAccount(ANVIL_ACCOUNTS[3]!.privateKey);
async function signed(now = Date.now()) {
  const issuedAt = Math.floor(now / 1000);
  return { address: wallet.address, issuedAt, signature: await wallet.signTypedData(sessionTypedData(31337, wallet.address, issuedAt)) };
}
const request = (cookie: string) => new Request('http://web/api/session', { headers: { cookie } });
const failure = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof ApiError ? { status: err.status, code: err.code } : err;
  }
  return 'accepted';
};

describe('sessions', () => {
  it('carries the wallet and its account under one MAC; each is read back, nothing can be altered', async () => {
    const { address, account, cookie } = await signIn(await signed());
    expect(address).toBe(wallet.address);
    expect(account).toBe(wallet.address);
    expect(cookie).toMatch(/^consentry_session=0x[0-9a-f]{40}\.0x[0-9a-f]{40}\.\d+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const value = cookie.split(';')[0]!;
    expect(requireSession(request(value))).toEqual({ wallet: wallet.address.toLowerCase(), account: wallet.address.toLowerCase() });
    expect(requireWallet(request(`other=1; ${value}`))).toBe(wallet.address.toLowerCase());
    expect(requirePatient(request(value))).toBe(wallet.address.toLowerCase());

    const [name, payload] = value.split('=') as [string, string];
    const [w, a, expires, tag] = payload.split('.') as [string, string, string, string];
    const other = ANVIL_ACCOUNTS[4]!.address.toLowerCase();
    for (const bad of [`${name}=${other}.${a}.${expires}.${tag}`, `${name}=${w}.${other}.${expires}.${tag}`, `${name}=${w}.${a}.${Number(expires) + 1}.${tag}`, `${name}=${w}.${expires}.${tag}`, `${name}=${payload}.x`, '']) {
      expect(failure(() => requirePatient(request(bad))), bad).toMatchObject({ status: 401, code: 'NOT_SIGNED_IN' });
    }
    expect(failure(() => requireWallet(request(value), (Number(expires) + 1) * 1000))).toEqual({ status: 401, code: 'SESSION_EXPIRED' });
  });

  it('refuses an old or foreign signature, and a sign-in whose account the chain cannot tell', async () => {
    await expect(signIn(await signed(Date.now() - 3600_000))).rejects.toMatchObject({ status: 401, code: 'SIGN_IN_EXPIRED' });
    await expect(signIn({ ...(await signed()), address: ANVIL_ACCOUNTS[4]!.address })).rejects.toMatchObject({ status: 401, code: 'BAD_SIGNATURE' });
    await expect(signIn({ address: 'me' })).rejects.toMatchObject({ status: 400, code: 'BAD_SIGN_IN' });
    // A deployment whose chain does not answer (nothing listens on port 9). The configuration is
    // parsed once per process, so the test points its parsed value there and back.
    const { config } = (await import('./config.server.ts')).serverConfig();
    writeFileSync(join(dataDir, '31337.json'), JSON.stringify({ chainId: 31337, startBlock: 0, contracts: { PatientRegistry: { address: ANVIL_ACCOUNTS[9]!.address, startBlock: 0 } } }));
    config.DEPLOYMENTS_DIR = dataDir;
    try {
      await expect(signIn(await signed())).rejects.toMatchObject({ status: 503, code: 'CHAIN_UNAVAILABLE', message: expect.stringMatching(/cannot be read/) });
    } finally {
      config.DEPLOYMENTS_DIR = noDeployment;
    }
  });
});
