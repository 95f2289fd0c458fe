import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { zeroHash, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollectingStore } from '@consentry/sdk/blobs/collect';
import { createKeyOpener, createKeySealer } from '@consentry/sdk/crypto/envelope';
import { combineShares, createDataKeySplitter, openShare, type Committee } from '@consentry/sdk/crypto/shares';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { contentTag, contentTagKey, fromBase64, toBase64, writeVersion } from '@consentry/sdk/records/versions';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';

// The share routes on a real vault (SQLite in a temp DATA_DIR), called as the browser calls them:
// a signed-in session cookie, JSON bodies. The committee's keys are made here; no chain is needed
// because the server never reads the committee, it only checks what each share's header says.
const dataDir = mkdtempSync(join(tmpdir(), 'consentry-shares-'));
process.env.DATA_DIR = dataDir;
// No deployment here: a wallet signs in as its own account (session.server.ts asks no chain).
process.env.DEPLOYMENTS_DIR = dataDir;
process.env.CHAIN_ID = '31337';
delete process.env.DATABASE_URL;

const { loader: unsharedLoader } = await import('../routes/api.records.unshared.ts');
const { action: sharesAction } = await import('../routes/api.records.shares.ts');
const { action: erase } = await import('../routes/api.records.$recordId.erase.ts');
const { signIn } = await import('./session.server.ts');
const { storeUpload } = await import('./records.server.ts');

const CHAIN_ID = 31337;
const patientAccount = privateKeyToAccount(ANVIL_ACCOUNTS[4]!.privateKey);
const otherAccount = privateKeyToAccount(ANVIL_ACCOUNTS[5]!.privateKey);
const patient = patientAccount.address;

async function cookieFor(account: typeof patientAccount): Promise<string> {
  const issuedAt = Math.floor(Date.now() / 1000);
  const signature = await account.signTypedData(sessionTypedData(CHAIN_ID, account.address, issuedAt));
  const { cookie } = await signIn({ address: account.address, issuedAt, signature });
  return cookie.split(';')[0]!;
}

const memberKeys = [1, 2, 3].map(() => crypto.getRandomValues(new Uint8Array(32)));
const committee: Committee = {
  epoch: 7,
  threshold: 2,
  members: memberKeys.map((sk, i) => ({ id: `0x${String(i + 1).repeat(40)}`, publicKey: x25519.getPublicKey(sk) })),
};

let cookie: string;
let otherCookie: string;
let keys: ReturnType<typeof deriveEncryptionKeyPair>;

const get = (query: string, c = cookie) =>
  unsharedLoader({ request: new Request(`http://web/api/records/unshared${query}`, { headers: { cookie: c } }), params: {}, context: {} });
const post = (body: unknown, c = cookie) =>
  sharesAction({
    request: new Request('http://web/api/records/shares', { method: 'POST', headers: { cookie: c, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    params: {},
    context: {},
  });

type Unshared = { epoch: number; versions: Array<{ recordId: string; version: number; sealedKey: string }>; remaining?: number };

beforeAll(async () => {
  keys = deriveEncryptionKeyPair(await patientAccount.signTypedData(keyDerivationTypedData(CHAIN_ID)));
  cookie = await cookieFor(patientAccount);
  otherCookie = await cookieFor(otherAccount);
  // Three records uploaded the way the browser uploads them.
  const seal = createKeySealer(keys.publicKey);
  const blobs = createCollectingStore();
  const versions = [];
  for (const [i, code] of ['allergy-a', 'allergy-b', 'allergy-c'].entries()) {
    const resource = { resourceType: 'AllergyIntolerance', id: code, patient: { reference: 'Patient/p' }, code: { text: `Allergy ${i}` } };
    const v = await writeVersion({ resource, patient, seal, blobs, tag: contentTag(contentTagKey(keys.secretKey), resource), version: 1, supersedes: zeroHash, reason: null });
    const { patient: _p, createdAt: _c, ...rest } = v;
    versions.push(rest);
  }
  const sent = blobs.drain().map(({ cid, bytes }) => ({ cid, data: toBase64(bytes) }));
  expect(await storeUpload(patient, { versions, blobs: sent })).toEqual({ stored: 3 });
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function splitAll(page: Unshared, epoch = committee.epoch) {
  const split = createDataKeySplitter({ ...committee, epoch });
  const open = createKeyOpener(keys.secretKey);
  const shares = [];
  for (const v of page.versions) {
    for (const s of await split(open(fromBase64(v.sealedKey)), { recordId: v.recordId, version: v.version })) {
      shares.push({ recordId: v.recordId, version: v.version, member: s.memberId, sealedShare: toBase64(s.sealed) });
    }
  }
  return shares;
}

describe('committee share routes', () => {
  it('lists the versions without shares, stores the shares split in the browser, and then lists none', async () => {
    const first = await get('?epoch=7&limit=2&count=1');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as Unshared;
    expect(page1.versions).toHaveLength(2);
    expect(page1.remaining).toBe(3);
    const shares = await splitAll(page1);
    const stored = await post({ epoch: 7, shares });
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual({ stored: 6 });
    // Sending the same shares again changes nothing.
    expect(await (await post({ epoch: 7, shares })).json()).toEqual({ stored: 0 });

    const page2 = (await (await get('?epoch=7&count=1')).json()) as Unshared;
    expect(page2.versions.map((v) => v.recordId)).not.toContain(page1.versions[0]!.recordId);
    expect(page2.remaining).toBe(1);
    expect(await (await post({ epoch: 7, shares: await splitAll(page2) })).json()).toEqual({ stored: 3 });
    expect(((await (await get('?epoch=7&count=1')).json()) as Unshared)).toEqual({ epoch: 7, versions: [], remaining: 0 });
    // A new epoch wants everything again.
    expect(((await (await get('?epoch=8&limit=0&count=1')).json()) as Unshared).remaining).toBe(3);

    // What the vault keeps is what the members can open: any two recover the patient's key.
    const { recordStores } = await import('./records.server.ts');
    const { vault } = await recordStores();
    const v = page1.versions[0]!;
    const opened = await Promise.all(
      committee.members.slice(1).map(async (m, i) => openShare(fromBase64((await vault.shareFor(v.recordId, v.version, m.id, 7))!.sealedShare), memberKeys[i + 1]!)),
    );
    const dek = await combineShares(opened, { threshold: 2, epoch: 7, record: v });
    expect(dek).toEqual(createKeyOpener(keys.secretKey)(fromBase64(v.sealedKey)));
  });

  it('refuses in words: no session, bad parameters, malformed shares, headers that disagree, other patients, erased records', async () => {
    const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: { code: string; message: string } }).error });
    expect(await errorOf(await get('?epoch=7', ''))).toMatchObject({ status: 401, code: 'NOT_SIGNED_IN' });
    expect(await errorOf(await get(''))).toMatchObject({ status: 400, code: 'BAD_EPOCH' });
    expect(await errorOf(await get('?epoch=-1'))).toMatchObject({ status: 400, code: 'BAD_EPOCH' });
    expect(await errorOf(await get('?epoch=1&limit=5000'))).toMatchObject({ status: 400, code: 'BAD_LIMIT' });
    expect(await errorOf(await post({ epoch: 9, shares: [] }, ''))).toMatchObject({ status: 401 });

    const page = (await (await get('?epoch=9&limit=1')).json()) as Unshared;
    const shares = await splitAll(page, 9);
    expect(await errorOf(await post({ epoch: 9 }))).toMatchObject({ status: 400, code: 'BAD_SHARES', message: expect.stringMatching(/shares/) });
    expect(await errorOf(await post({ epoch: 9, shares: [{ ...shares[0], sealedShare: 'A'.repeat(400) }] }))).toMatchObject({ status: 400, code: 'BAD_SHARE' });
    // A share split for epoch 9 sent as epoch 10, or filed under another member, is refused.
    const wrongEpoch = await post({ epoch: 10, shares });
    expect(await errorOf(wrongEpoch)).toMatchObject({ status: 400, code: 'SHARE_MISMATCH' });
    expect(await errorOf(await post({ epoch: 9, shares: [{ ...shares[0]!, member: shares[1]!.member }] }))).toMatchObject({ status: 400, code: 'SHARE_MISMATCH' });
    // Another patient cannot file shares for these records.
    expect(await errorOf(await post({ epoch: 9, shares }, otherCookie))).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
    expect(((await (await get('?epoch=9&count=1', otherCookie)).json()) as Unshared).remaining).toBe(0);
    // An erased record has no key left and takes no shares.
    const erased = await erase({
      request: new Request(`http://web/api/records/${page.versions[0]!.recordId}/erase`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'sealed reason' }) }),
      params: { recordId: page.versions[0]!.recordId },
      context: {},
    });
    expect(erased.status).toBe(200);
    expect(await errorOf(await post({ epoch: 9, shares }))).toMatchObject({ status: 409, code: 'RECORD_ERASED' });
  });
});
