// The recovery API (web/app/routes/api.recovery.*.ts, api.records.sealed-keys.ts, api.keyring.ts) and
// the session's account, called as the browser calls them, against a real anvil with the deployed
// contracts and a real vault (SQLite in a temp DATA_DIR). A patient names three guardians (2 of 3)
// and backs up her key; every backup that disagrees with the chain is refused in words. She loses her
// wallet: guardian 1 starts a recovery to her new wallet, guardian 2 approves, the wait passes and the
// new wallet completes it. Then: the old wallet can no longer sign in or write; the new wallet signs in
// as her account; a share is released only by a guardian, only for the completed recovery; two
// released shares give the new wallet her secret back; it keeps the old secret in the keyring,
// re-seals every record's data key and rotates the key on chain.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, zeroHash, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { createCollectingStore } from '@consentry/sdk/blobs/collect';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { createKeyOpener, createKeySealer, sealKey } from '@consentry/sdk/crypto/envelope';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { contentTag, contentTagKey, fromBase64, toBase64, writeVersion } from '@consentry/sdk/records/versions';
import {
  approveRecovery,
  completeRecovery,
  readRecoveryState,
  rotateEncryptionKey,
  setGuardians,
  startRecovery,
  type RecoveryActionContext,
} from '@consentry/sdk/recovery/actions';
import { recoverSecretFromReleased, releaseBackupShare, splitKeyBackup } from '@consentry/sdk/recovery/backup';
import { keyringEntry, openKeyring } from '@consentry/sdk/recovery/keyring';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts } from '../../../contracts/script/deploy.ts';

const CHAIN = 31337;
const dir = mkdtempSync(join(tmpdir(), 'consentry-recovery-api-'));
let anvil: AnvilInstance;
let registry: Address;
let client: PublicClient;

type Who = { privateKey: Hex; address: Address; keys: EncryptionKeyPair };
const who = async (i: number): Promise<Who> => {
  const { privateKey, address } = ANVIL_ACCOUNTS[i]!;
  const keys = deriveEncryptionKeyPair(await privateKeyToAccount(privateKey).signTypedData(keyDerivationTypedData(CHAIN)));
  return { privateKey, address, keys };
};
let patient: Who;
let guardians: Who[];
let newWallet: Who;
let stranger: Who;

const ctx = (w: Who): RecoveryActionContext => ({ wallet: walletClientFor(anvil.rpcUrl, CHAIN, w.privateKey), client, registry });
const rpc = (method: string, params: unknown[] = []) => client.request({ method, params } as never);

// Route modules load after the environment names this chain, deployment and DATA_DIR.
let routes: {
  session: typeof import('../routes/api.session.ts');
  backup: typeof import('../routes/api.recovery.backup.ts');
  released: typeof import('../routes/api.recovery.released.ts');
  sealedKeys: typeof import('../routes/api.records.sealed-keys.ts');
  keyring: typeof import('../routes/api.keyring.ts');
  records: typeof import('../routes/api.records.ts');
};
let signIn: typeof import('./session.server.ts').signIn;

async function cookieFor(w: Who): Promise<string> {
  const issuedAt = Math.floor(Date.now() / 1000);
  const signature = await privateKeyToAccount(w.privateKey).signTypedData(sessionTypedData(CHAIN, w.address, issuedAt));
  return (await signIn({ address: w.address, issuedAt, signature })).cookie.split(';')[0]!;
}

type Answer = { status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } };
async function call(route: { loader?: unknown; action?: unknown }, path: string, opts: { cookie?: string; body?: unknown; raw?: string } = {}): Promise<Answer> {
  const post = opts.body !== undefined || opts.raw !== undefined;
  const request = new Request(`http://web${path}`, {
    method: post ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...(opts.cookie ? { cookie: opts.cookie } : {}) },
    ...(post ? { body: opts.raw ?? JSON.stringify(opts.body) } : {}),
  });
  const handler = (post ? route.action : route.loader) as (args: { request: Request; params: object; context: object }) => Promise<Response>;
  const res = await handler({ request, params: {}, context: {} });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}
const refused = (a: Answer) => ({ status: a.status, code: a.body.error?.code, message: a.body.error?.message ?? '' });

async function register(w: Who) {
  const hash = await walletClientFor(anvil.rpcUrl, CHAIN, w.privateKey).writeContract({ address: registry, abi: patientRegistryAbi, functionName: 'register', args: [w.keys.publicKeyHex] });
  await client.waitForTransactionReceipt({ hash });
}

function backupBody(b: Awaited<ReturnType<typeof splitKeyBackup>>, threshold: number) {
  return { backupId: b.backupId, threshold, publicKey: b.publicKey, shares: b.shares.map((s) => ({ guardian: s.guardian, sealedShare: toBase64(s.sealedShare) })) };
}
/** The stored backup as GET /api/recovery/backup serves it, with each guardian's share by address. */
async function storedBackup() {
  const body = (await call(routes.backup, `/api/recovery/backup?account=${patient.address}`)).body as { shares: Array<{ guardian: string; sealedShare: string }> };
  return { ...body, shareOf: (g: Who) => fromBase64(body.shares.find((s) => s.guardian === g.address)!.sealedShare) };
}
const guardianKeys = () => guardians.map((g) => ({ address: g.address, publicKey: g.keys.publicKey }));

beforeAll(async () => {
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: CHAIN, deploymentsDir: dir });
  registry = d.contracts.PatientRegistry.address;
  client = publicClientFor(anvil.rpcUrl, CHAIN) as PublicClient;
  Object.assign(process.env, { RPC_URL: anvil.rpcUrl, CHAIN_ID: String(CHAIN), DEPLOYMENTS_DIR: dir, DATA_DIR: dir, DATABASE_URL: '' });
  routes = {
    session: await import('../routes/api.session.ts'),
    backup: await import('../routes/api.recovery.backup.ts'),
    released: await import('../routes/api.recovery.released.ts'),
    sealedKeys: await import('../routes/api.records.sealed-keys.ts'),
    keyring: await import('../routes/api.keyring.ts'),
    records: await import('../routes/api.records.ts'),
  };
  ({ signIn } = await import('./session.server.ts'));
  [patient, newWallet, stranger] = await Promise.all([who(1), who(5), who(6)]);
  guardians = await Promise.all([2, 3, 4].map(who));
  for (const w of [patient, ...guardians]) await register(w);
}, 180_000);

afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('recovery API on a real chain', () => {
  let patientCookie: string;
  let recordCount = 0;

  it('signs a wallet in as the account it controls; an unregistered wallet as itself', async () => {
    patientCookie = await cookieFor(patient);
    const me = await call(routes.session, '/api/session', { cookie: patientCookie });
    expect(me).toEqual({ status: 200, body: { address: patient.address.toLowerCase(), account: patient.address.toLowerCase() } });
    const other = await call(routes.session, '/api/session', { cookie: await cookieFor(stranger) });
    expect(other.body).toEqual({ address: stranger.address.toLowerCase(), account: stranger.address.toLowerCase() });
    // A cookie of the earlier form (wallet.expiry.mac) is not a session any more.
    const [name, value] = patientCookie.split('=') as [string, string];
    const [wallet, , expires, tag] = value.split('.');
    expect(refused(await call(routes.session, '/api/session', { cookie: `${name}=${wallet}.${expires}.${tag}` }))).toMatchObject({ status: 401, code: 'NOT_SIGNED_IN' });
    // Nor one whose account was changed by hand.
    const forged = `${name}=${wallet}.${stranger.address.toLowerCase()}.${expires}.${tag}`;
    expect(refused(await call(routes.session, '/api/session', { cookie: forged }))).toMatchObject({ status: 401, code: 'NOT_SIGNED_IN' });

    // Three records, uploaded as the browser uploads them: what a rotation re-seals later.
    const { storeUpload } = await import('./records.server.ts');
    const seal = createKeySealer(patient.keys.publicKey);
    const blobs = createCollectingStore();
    const versions = [];
    for (const code of ['peanut', 'latex', 'penicillin']) {
      const resource = { resourceType: 'AllergyIntolerance', id: code, patient: { reference: 'Patient/p' }, code: { text: code } };
      const v = await writeVersion({ resource, patient: patient.address, seal, blobs, tag: contentTag(contentTagKey(patient.keys.secretKey), resource), version: 1, supersedes: zeroHash, reason: null });
      const { patient: _p, createdAt: _c, ...rest } = v;
      versions.push(rest);
    }
    const sent = blobs.drain().map(({ cid, bytes }) => ({ cid, data: toBase64(bytes) }));
    recordCount = (await storeUpload(patient.address, { versions, blobs: sent })).stored;
    expect(recordCount).toBe(3);
  });

  it('stores a backup that matches the guardians and key on chain, and refuses every other in words', async () => {
    // No guardians on chain yet.
    const early = await splitKeyBackup({ secretKey: patient.keys.secretKey, account: patient.address, guardians: guardianKeys(), threshold: 2 });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, body: backupBody(early, 2) }))).toMatchObject({ status: 409, code: 'NO_GUARDIANS' });

    await setGuardians(ctx(patient), { guardians: guardians.map((g) => g.address), threshold: 2 });
    const state = await readRecoveryState(client, registry, patient.address);
    expect(state).toMatchObject({ controller: patient.address, encryptionKey: patient.keys.publicKeyHex, guardians: guardians.map((g) => g.address), threshold: 2, recoveryDelay: 48 * 3600, pendingChange: null, active: null, completed: null });

    const backup = await splitKeyBackup({ secretKey: patient.keys.secretKey, account: patient.address, guardians: guardianKeys(), threshold: 2 });
    const body = backupBody(backup, 2);
    const cases: Array<[string, unknown, number, string, RegExp?]> = [
      ['not an object', 'hello', 400, 'BAD_BACKUP'],
      ['a share that is not base64', { ...body, shares: [{ ...body.shares[0]!, sealedShare: '!'.repeat(400) }, ...body.shares.slice(1)] }, 400, 'BAD_BACKUP'],
      ['a stranger as guardian', { ...body, shares: [{ ...body.shares[0]!, guardian: stranger.address }, ...body.shares.slice(1)] }, 409, 'GUARDIANS_MISMATCH', /not one of your guardians/],
      ['a guardian left out', { ...body, shares: body.shares.slice(0, 2) }, 409, 'GUARDIANS_MISMATCH', /no share for/],
      ['a guardian twice', { ...body, shares: [...body.shares, body.shares[0]] }, 400, 'DUPLICATE_SHARE'],
      ['a share filed under another guardian', { ...body, shares: [{ ...body.shares[1]!, guardian: body.shares[0]!.guardian }, { ...body.shares[0]!, guardian: body.shares[1]!.guardian }, body.shares[2]] }, 400, 'SHARE_MISMATCH'],
      ['another threshold', { ...body, threshold: 3 }, 409, 'THRESHOLD_MISMATCH', /2 of 3/],
      ['another backup id', { ...body, backupId: `0x${'ab'.repeat(16)}` }, 400, 'SHARE_MISMATCH'],
    ];
    for (const [what, sent, status, code, words] of cases) {
      const r = refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, body: sent }));
      expect(r, what).toMatchObject({ status, code });
      expect(r.message.length, what).toBeGreaterThan(20);
      if (words) expect(r.message, what).toMatch(words);
    }
    // A backup of another secret, or split 3 of 3.
    const otherSecret = await splitKeyBackup({ secretKey: randomBytes(32), account: patient.address, guardians: guardianKeys(), threshold: 2 });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, body: backupBody(otherSecret, 2) }))).toMatchObject({ status: 409, code: 'KEY_MISMATCH' });
    const threeOfThree = await splitKeyBackup({ secretKey: patient.keys.secretKey, account: patient.address, guardians: guardianKeys(), threshold: 3 });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, body: backupBody(threeOfThree, 3) }))).toMatchObject({ status: 409, code: 'THRESHOLD_MISMATCH' });
    // Shares sealed to keys the guardians do not have on chain.
    const wrongKeys = await splitKeyBackup({ secretKey: patient.keys.secretKey, account: patient.address, guardians: guardians.map((g) => ({ address: g.address, publicKey: x25519.getPublicKey(randomBytes(32)) })), threshold: 2 });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, body: backupBody(wrongKeys, 2) }))).toMatchObject({ status: 409, code: 'GUARDIAN_KEY_MISMATCH' });
    // Another patient's backup posted by a stranger (not registered) or without a session.
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: await cookieFor(stranger), body }))).toMatchObject({ status: 403, code: 'NOT_REGISTERED' });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { body }))).toMatchObject({ status: 401, code: 'NOT_SIGNED_IN' });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, raw: '{' }))).toMatchObject({ status: 400, code: 'BAD_BACKUP' });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, raw: JSON.stringify({ pad: 'x'.repeat(300_000) }) }))).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(refused(await call(routes.backup, '/api/recovery/backup?account=0x123'))).toMatchObject({ status: 400, code: 'BAD_ACCOUNT' });
    expect(refused(await call(routes.backup, `/api/recovery/backup?account=${patient.address}`))).toMatchObject({ status: 404, code: 'NO_BACKUP' });

    expect(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, body })).toEqual({ status: 200, body: { stored: true, backupId: backup.backupId } });
    const stored = await call(routes.backup, `/api/recovery/backup?account=${patient.address.toLowerCase()}`);
    expect(stored.body).toMatchObject({ account: patient.address, backupId: backup.backupId, threshold: 2, publicKey: patient.keys.publicKeyHex, createdAt: expect.any(Number) });
    const byGuardian = (shares: unknown) => [...(shares as Array<{ guardian: string }>)].sort((a, b) => a.guardian.localeCompare(b.guardian));
    expect(byGuardian(stored.body.shares)).toEqual(byGuardian(body.shares));
  });

  it('refuses a release before the recovery completes, and a backup change while it is under way', async () => {
    const g1Cookie = await cookieFor(guardians[0]!);
    const stored = await storedBackup();
    // A release for a recovery that is only pretended (nonce 1, not on chain).
    const pretend = releaseBackupShare({
      sealedShare: stored.shareOf(guardians[0]!),
      guardianSecretKey: guardians[0]!.keys.secretKey,
      recovery: { account: patient.address, nonce: 1n, newController: guardians[0]!.address, recoveryKey: guardians[0]!.keys.publicKeyHex },
    });
    const early = refused(await call(routes.released, '/api/recovery/released', { cookie: g1Cookie, body: { account: patient.address, nonce: 1, releasedShare: toBase64(pretend) } }));
    expect(early).toMatchObject({ status: 409, code: 'RECOVERY_NOT_COMPLETED', message: expect.stringMatching(/No recovery .* has completed/) });

    const started = await startRecovery(ctx(guardians[0]!), { account: patient.address, newController: newWallet.address, recoveryKey: newWallet.keys.publicKeyHex });
    expect(started.nonce).toBe(1n);
    const again = await splitKeyBackup({ secretKey: patient.keys.secretKey, account: patient.address, guardians: guardianKeys(), threshold: 2 });
    expect(refused(await call(routes.backup, '/api/recovery/backup', { cookie: patientCookie, body: backupBody(again, 2) }))).toMatchObject({ status: 409, code: 'RECOVERY_ACTIVE' });
    // One guardian alone cannot complete it.
    await expect(completeRecovery(ctx(newWallet), patient.address)).rejects.toMatchObject({ errorName: 'PatientRegistry__NotEnoughApprovals' });
    await approveRecovery(ctx(guardians[1]!), { account: patient.address, nonce: 1n });
    const waiting = await readRecoveryState(client, registry, patient.address);
    expect(waiting.active).toMatchObject({ nonce: 1n, newController: newWallet.address, recoveryKey: newWallet.keys.publicKeyHex, approvedBy: [guardians[0]!.address, guardians[1]!.address], approvalCount: 2 });
    expect(waiting.active!.readyAt).toBe(waiting.now + 48n * 3600n);
    await expect(completeRecovery(ctx(newWallet), patient.address)).rejects.toMatchObject({ errorName: 'PatientRegistry__RecoveryNotReady' });
    await rpc('evm_increaseTime', [48 * 3600 + 1]);
    await rpc('evm_mine');
    await completeRecovery(ctx(newWallet), patient.address);
    const done = await readRecoveryState(client, registry, patient.address);
    expect(done).toMatchObject({ controller: newWallet.address, active: null, completed: { nonce: 1n, previousController: patient.address, newController: newWallet.address, recoveryKey: newWallet.keys.publicKeyHex } });
  }, 60_000);

  it('after the recovery: the old wallet can neither sign in nor write; the new wallet signs in as the account', async () => {
    const issuedAt = Math.floor(Date.now() / 1000);
    const signature = await privateKeyToAccount(patient.privateKey).signTypedData(sessionTypedData(CHAIN, patient.address, issuedAt));
    const oldSignIn = await call(routes.session, '/api/session', { body: { address: patient.address, issuedAt, signature } });
    expect(refused(oldSignIn)).toMatchObject({ status: 403, code: 'ACCOUNT_RECOVERED', message: expect.stringContaining(newWallet.address) });
    // Its session from before still names the account, but the chain refuses its writes.
    const entry = keyringEntry(patient.keys.secretKey, newWallet.keys.publicKey);
    expect(refused(await call(routes.keyring, '/api/keyring', { cookie: patientCookie, body: entry }))).toMatchObject({ status: 403, code: 'NOT_CONTROLLER', message: expect.stringContaining(newWallet.address) });
    // The same for the record routes: an upload (even a malformed one is refused first for who sends it).
    expect(refused(await call(routes.records, '/api/records', { cookie: patientCookie, body: { versions: [], blobs: [] } }))).toMatchObject({ status: 403, code: 'NOT_CONTROLLER' });

    const newCookie = await cookieFor(newWallet);
    expect((await call(routes.session, '/api/session', { cookie: newCookie })).body).toEqual({ address: newWallet.address.toLowerCase(), account: patient.address.toLowerCase() });
    // The records API serves the account's records to the new wallet.
    const records = await call(routes.records, '/api/records', { cookie: newCookie });
    expect((records.body.versions as unknown[]).length).toBe(recordCount);
  });

  it('takes a released share only from a guardian, only for the completed recovery; two of them give the secret back', async () => {
    const recovery = { account: patient.address, nonce: 1n, newController: newWallet.address, recoveryKey: newWallet.keys.publicKeyHex };
    const stored = await storedBackup();
    const release = (i: number) => toBase64(releaseBackupShare({ sealedShare: stored.shareOf(guardians[i]!), guardianSecretKey: guardians[i]!.keys.secretKey, recovery }));
    const [g1, g2, g3] = await Promise.all(guardians.map(cookieFor)) as [string, string, string];
    const post = (cookie: string, body: unknown) => call(routes.released, '/api/recovery/released', { cookie, body });

    expect(refused(await post(await cookieFor(stranger), { account: patient.address, nonce: 1, releasedShare: release(0) }))).toMatchObject({ status: 403, code: 'NOT_GUARDIAN' });
    expect(refused(await post(g3, { account: patient.address, nonce: 1, releasedShare: release(0) }))).toMatchObject({ status: 400, code: 'SHARE_MISMATCH' });
    expect(refused(await post(g1, { account: patient.address, nonce: 2, releasedShare: release(0) }))).toMatchObject({ status: 409, code: 'RECOVERY_NOT_COMPLETED', message: expect.stringMatching(/#1/) });
    // Re-sealed to another key than the one the guardians approved.
    const toStranger = toBase64(releaseBackupShare({ sealedShare: stored.shareOf(guardians[0]!), guardianSecretKey: guardians[0]!.keys.secretKey, recovery: { ...recovery, recoveryKey: stranger.keys.publicKeyHex } }));
    expect(refused(await post(g1, { account: patient.address, nonce: 1, releasedShare: toStranger }))).toMatchObject({ status: 400, code: 'SHARE_MISMATCH' });
    expect(refused(await post(g1, { account: patient.address, nonce: 1, releasedShare: 'AAAA'.repeat(80) }))).toMatchObject({ status: 400, code: 'BAD_SHARE' });
    expect(refused(await post(g1, { account: 'nobody', nonce: 1, releasedShare: release(0) }))).toMatchObject({ status: 400, code: 'BAD_RELEASE' });

    expect(await post(g1, { account: patient.address, nonce: 1, releasedShare: release(0) })).toEqual({ status: 200, body: { stored: true } });
    expect(await post(g1, { account: patient.address, nonce: '1', releasedShare: release(0) })).toEqual({ status: 200, body: { stored: false } });
    expect(refused(await call(routes.released, `/api/recovery/released?account=${patient.address}`))).toMatchObject({ status: 400, code: 'BAD_NONCE' });
    const one = (await call(routes.released, `/api/recovery/released?account=${patient.address}&nonce=1`)).body as { shares: Array<{ guardian: string; releasedShare: string }> };
    await expect(recoverSecretFromReleased({ released: one.shares.map((s) => fromBase64(s.releasedShare)), recoverySecretKey: newWallet.keys.secretKey, recovery, expectedPublicKey: patient.keys.publicKeyHex })).rejects.toMatchObject({ code: 'RECOVERY_TOO_FEW_SHARES' });

    expect((await post(g2, { account: patient.address, nonce: 1, releasedShare: release(1) })).body).toEqual({ stored: true });
    const two = (await call(routes.released, `/api/recovery/released?account=${patient.address}&nonce=1`)).body as { shares: Array<{ guardian: string; releasedShare: string }> };
    expect(two.shares.map((s) => s.guardian).sort()).toEqual([guardians[0]!.address, guardians[1]!.address].sort());
    const secret = await recoverSecretFromReleased({ released: two.shares.map((s) => fromBase64(s.releasedShare)), recoverySecretKey: newWallet.keys.secretKey, recovery, expectedPublicKey: patient.keys.publicKeyHex });
    expect(bytesToHex(secret)).toBe(bytesToHex(patient.keys.secretKey));
    expect((await call(routes.released, `/api/recovery/released?account=${patient.address}&nonce=2`)).body).toEqual({ shares: [] });
  });

  it('keeps the old secret in the keyring, re-seals every data key and rotates the key on chain', async () => {
    const newCookie = await cookieFor(newWallet);
    const entry = keyringEntry(patient.keys.secretKey, newWallet.keys.publicKey);
    expect(refused(await call(routes.keyring, '/api/keyring', { cookie: newCookie, body: { ...entry, sealedSecret: toBase64(randomBytes(104)) } }))).toMatchObject({ status: 400, code: 'BAD_KEYRING' });
    expect(await call(routes.keyring, '/api/keyring', { cookie: newCookie, body: entry })).toEqual({ status: 200, body: { stored: true } });
    const ring = (await call(routes.keyring, '/api/keyring', { cookie: newCookie })).body as { entries: Array<{ publicKey: Hex; sealedSecret: string; createdAt: number }> };
    expect(ring.entries).toEqual([{ publicKey: entry.publicKey, sealedSecret: entry.sealedSecret, createdAt: expect.any(Number) }]);
    expect(bytesToHex(openKeyring(ring.entries, newWallet.keys.secretKey).root)).toBe(bytesToHex(patient.keys.secretKey));
    expect(refused(await call(routes.keyring, '/api/keyring', {}))).toMatchObject({ status: 401 });

    const versions = ((await call(routes.records, '/api/records', { cookie: newCookie })).body.versions as Array<{ recordId: string; version: number; sealedKey: string }>);
    const open = createKeyOpener(patient.keys.secretKey);
    const updates = versions.map((v) => ({ recordId: v.recordId, version: v.version, sealedKey: toBase64(sealKey(open(fromBase64(v.sealedKey)), newWallet.keys.publicKey)) }));
    const post = (cookie: string, body: unknown) => call(routes.sealedKeys, '/api/records/sealed-keys', { cookie, body });
    expect(refused(await post(newCookie, { updates: [] }))).toMatchObject({ status: 400, code: 'BAD_SEALED_KEYS' });
    expect(refused(await post(newCookie, { updates: Array.from({ length: 501 }, () => updates[0]) }))).toMatchObject({ status: 400, code: 'BAD_SEALED_KEYS', message: expect.stringMatching(/at most 500/) });
    expect(refused(await post(newCookie, { updates: [{ ...updates[0]!, sealedKey: toBase64(randomBytes(64)) }] }))).toMatchObject({ status: 400, code: 'BAD_SEALED_KEYS' });
    expect(refused(await post(newCookie, { updates: [updates[0], updates[0]] }))).toMatchObject({ status: 400, code: 'BAD_SEALED_KEYS', message: expect.stringMatching(/twice/) });
    expect(refused(await post(newCookie, { updates: [{ ...updates[0]!, version: 2 }] }))).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
    // Another wallet signed in as itself owns none of these records (and controls no account).
    expect(refused(await post(await cookieFor(guardians[2]!), { updates }))).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
    expect(refused(await post(patientCookie, { updates }))).toMatchObject({ status: 403, code: 'NOT_CONTROLLER' });

    expect(await post(newCookie, { updates })).toEqual({ status: 200, body: { updated: 3 } });
    const after = ((await call(routes.records, '/api/records', { cookie: newCookie })).body.versions as Array<{ sealedKey: string }>);
    const openNew = createKeyOpener(newWallet.keys.secretKey);
    for (const v of after) expect(openNew(fromBase64(v.sealedKey))).toHaveLength(32);

    await rotateEncryptionKey(ctx(newWallet), newWallet.keys.publicKeyHex);
    expect((await readRecoveryState(client, registry, patient.address)).encryptionKey).toBe(newWallet.keys.publicKeyHex);
    // The new wallet backs up its key to the same guardians.
    const backup = await splitKeyBackup({ secretKey: newWallet.keys.secretKey, account: patient.address, guardians: guardianKeys(), threshold: 2 });
    expect((await call(routes.backup, '/api/recovery/backup', { cookie: newCookie, body: backupBody(backup, 2) })).body).toEqual({ stored: true, backupId: backup.backupId });
  });
});
