// The committee's release of a research purchase through the real gateways (each on its own member
// keys), with three participants enrolled by real proofs and their extracts uploaded: the cohort is
// read from the chain; nothing is released before the purchase is confirmed; a request not signed by
// the buyer, a purchase confirmed for another key, an unknown purchase and a malformed request are
// refused in words; a third party cannot open what was released to the buyer; a participant whose
// client never uploaded its extract blocks the release (every member says which extract), and the
// buyer gets the refund.
import { x25519 } from '@noble/curves/ed25519.js';
import { keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faucet, purchase, readPurchase, refund } from '@consentry/sdk/research/market';
import { gatewayCiphertexts, openPurchasedExtracts, purchaseCohort, releaseToBuyerTypedData, requestPurchaseRelease } from '@consentry/sdk/research/purchase-release';
import { extractHashOf } from '@consentry/sdk/research/seal-extract';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { CHAIN, DAY, startMarketFixture, type MarketFixture, type Participant } from './testing/market-fixture.ts';

let f: MarketFixture;
let study: bigint;
let participants: Participant[];
const registered: Hex[] = [];
const buyerSecret = keccak256(toHex('release test buyer key'), 'bytes');
const buyerKey = x25519.getPublicKey(buyerSecret);

beforeAll(async () => {
  f = await startMarketFixture();
  study = await f.approvedStudy({ minCohort: 3 });
  participants = [0, 1, 2].map((i) => f.participant('purchase-release', i, study));
  for (const p of participants) registered.push((await f.enroll(p, study)).extractHash);
  await faucet(f.ctx(f.researcher), f.researcher.address, 100_000_000n);
}, 240_000);

afterAll(async () => {
  await f?.close();
});

const post = (url: string, body: unknown) =>
  fetch(`${url}/purchase-release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string; message: string }; status?: string } }));

describe('purchase release through the gateways (real chain, real proofs, uploaded extracts)', () => {
  it('releases only after confirmation, to the buyer alone, exactly the cohort it paid for', async () => {
    const ctx = f.ctx(f.researcher);
    const bought = await purchase(ctx, study);
    expect(bought.cohort).toBe(3);
    const cohort = await purchaseCohort(f.client, f.contracts, bought.purchaseId, f.fromBlock);
    expect(cohort.holders.map((h) => h.holder).sort()).toEqual(participants.map((p) => p.study.address).sort());
    expect(cohort.holders.map((h) => h.extractHash).sort()).toEqual([...registered].sort());

    // Someone other than the buyer asks: every member refuses.
    const stranger = f.ctx(ANVIL_ACCOUNTS[8]!);
    await expect(requestPurchaseRelease({ ctx: stranger, gateways: f.access.refs, purchaseId: bought.purchaseId, buyerKey, threshold: 2 })).rejects.toMatchObject({ code: 'NOT_THE_BUYER' });

    // While pending, a member answers its Confirm signature and no share.
    const keyHex = toHex(buyerKey);
    const signature = await privateKeyToAccount(f.researcher.privateKey).signTypedData(releaseToBuyerTypedData(CHAIN, f.contracts.StudyMarket, bought.purchaseId, keyHex));
    const early = await post(f.access.refs[0]!.url, { purchaseId: bought.purchaseId.toString(), buyerKey: keyHex, signature });
    expect(early.status).toBe(200);
    expect(early.body.status).toBe('pending');
    expect(early.body).not.toHaveProperty('shares');
    expect((await readPurchase(f.client, f.contracts, bought.purchaseId))!.status).toBe('Pending');

    // The buyer's client gathers k signatures, confirms, and receives the shares.
    const result = await requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: bought.purchaseId, buyerKey, threshold: 2 });
    expect(result.released).toHaveLength(6); // 3 extracts × k = 2 members
    expect((await readPurchase(f.client, f.contracts, bought.purchaseId))!.status).toBe('Confirmed');
    const store = gatewayCiphertexts(f.access.refs);
    const opened = await openPurchasedExtracts({ buyer: f.researcher.address, buyerSecretKey: buyerSecret, purchaseId: bought.purchaseId, studyId: study, threshold: 2, released: result.released, store });
    expect(opened.map((o) => o.extractHash).sort()).toEqual([...registered].sort());
    for (const o of opened) expect(o.resources.some((r) => r.resourceType === 'Patient')).toBe(true);

    // Asking again after confirmation gives the same release (no new transaction).
    const again = await requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: bought.purchaseId, buyerKey, threshold: 2 });
    expect(again.confirmation).toBeNull();
    expect(again.releaseHash).toBe(result.releaseHash);

    // Someone else's key opens nothing of it; the buyer asking for another key is refused.
    await expect(
      openPurchasedExtracts({ buyer: f.researcher.address, buyerSecretKey: keccak256(toHex('someone else'), 'bytes'), purchaseId: bought.purchaseId, studyId: study, threshold: 2, released: result.released, store }),
    ).rejects.toThrow();
    const otherKey = x25519.getPublicKey(keccak256(toHex('another key of the buyer'), 'bytes'));
    await expect(requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: bought.purchaseId, buyerKey: otherKey, threshold: 2 })).rejects.toMatchObject({ code: 'RELEASE_MISMATCH' });
  }, 120_000);

  it('refuses malformed and unknown requests, and serves ciphertexts only of uploaded extracts', async () => {
    const url = f.access.refs[1]!.url;
    expect((await post(url, { purchaseId: 'one' })).body.error!.code).toBe('BAD_REQUEST');
    const keyHex = toHex(buyerKey);
    const signature = await privateKeyToAccount(f.researcher.privateKey).signTypedData(releaseToBuyerTypedData(CHAIN, f.contracts.StudyMarket, 999n, keyHex));
    const unknown = await post(url, { purchaseId: '999', buyerKey: keyHex, signature });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error!.code).toBe('PURCHASE_UNKNOWN');

    const got = await fetch(`${url}/extracts/${registered[0]}`);
    expect(got.status).toBe(200);
    expect(extractHashOf(new Uint8Array(await got.arrayBuffer()))).toBe(registered[0]);
    const missing = await fetch(`${url}/extracts/0x${'ab'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('EXTRACT_NOT_FOUND');
    expect((await fetch(`${url}/extracts/nonsense`)).status).toBe(400);
  });

  it('a participant whose extract was never uploaded blocks the release, and the buyer is refunded', async () => {
    const ctx = f.ctx(f.researcher);
    await f.enroll(f.participant('purchase-release', 3, study), study, { upload: false });
    const bought = await purchase(ctx, study);
    expect(bought.cohort).toBe(4);
    const refused = (await requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: bought.purchaseId, buyerKey, threshold: 2 }).catch((e: unknown) => e)) as Error & { code: string };
    expect(refused.code).toBe('SHARES_MISSING');
    expect(refused.message).toMatch(/no share of 1 of the cohort's 4 extracts/);
    expect((await readPurchase(f.client, f.contracts, bought.purchaseId))!.status).toBe('Pending');
    await f.advance(DAY + 1);
    expect((await refund(ctx, bought.purchaseId)).amount).toBe(bought.amount);
  }, 120_000);
});
