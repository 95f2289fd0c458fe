// Issue 7's "done when", scripted on the real stack: anvil with the deployed contracts, real proofs,
// the relayer, the vault and blob store, and three release gateways (2 of 3) each on its own member
// keys. A study (k = 3, 5 tUSD per participant) is registered and approved by an IRB; one patient
// enrolls and a purchase is refused below k; three more enroll gaslessly from fresh per-study
// addresses, each extract sealed to the committee and uploaded before enrolling; a researcher buys;
// the committee signs, the researcher confirms with k signatures and the gateways release; the
// researcher opens exactly the 4 extracts; one patient revokes; a second purchase pays only the 3
// others and releases only their extracts (with one gateway down); every claim adds up to the cent;
// a purchase nobody confirms is refunded after the deadline. No transaction or log of the whole run
// mentions a patient's main address. Four proofs (~1.5 s each).
import { x25519 } from '@noble/curves/ed25519.js';
import { keccak256, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTokenAbi } from '@consentry/sdk/abi/generated';
import { ActionRefusedError } from '@consentry/sdk/access/actions';
import { claimable, claimRelayed, faucet, purchase, readPurchase, refund } from '@consentry/sdk/research/market';
import { gatewayCiphertexts, openPurchasedExtracts, requestPurchaseRelease } from '@consentry/sdk/research/purchase-release';
import { DAY, startMarketFixture, type MarketFixture, type Participant } from './testing/market-fixture.ts';

const PRICE = 5_000_000n; // 5 tUSD (6 decimals)

let f: MarketFixture;
let study: bigint;
let patients: Participant[];
const extractOf = new Map<Address, Hex>();

beforeAll(async () => {
  f = await startMarketFixture();
}, 180_000);

afterAll(async () => {
  await f?.close();
});

describe('scripted run of the research marketplace (issue 7, done when)', () => {
  it('study, k gate, gasless enrollments, purchases, committee release, revocation, claims to the cent, refund, unlinkability', async () => {
    // A study with k = 3 at 5 tUSD per participant, approved by the IRB.
    study = await f.approvedStudy({ pricePerParticipant: PRICE, minCohort: 3 });
    patients = [0, 1, 2, 3].map((i) => f.participant('scripted-run', i, study));
    const researcher = f.researcher;
    const ctx = f.ctx(researcher);
    await faucet(ctx, researcher.address, 100_000_000n);
    const usd = (who: Address) => f.client.readContract({ address: f.contracts.TestToken!, abi: testTokenAbi, functionName: 'balanceOf', args: [who] });
    const enroll = async (p: Participant) => {
      const sealed = await f.enroll(p, study);
      extractOf.set(p.study.address, sealed.extractHash);
      expect(await f.client.getBalance({ address: p.study.address })).toBe(0n);
    };

    // One patient enrolls; a purchase below k = 3 is refused.
    await enroll(patients[0]!);
    const tooSmall = await purchase(ctx, study).catch((e: unknown) => e);
    expect(tooSmall).toBeInstanceOf(ActionRefusedError);
    expect((tooSmall as ActionRefusedError).errorName).toBe('StudyMarket__CohortTooSmall');

    // Three more, gaslessly through the relayer.
    for (const p of patients.slice(1)) await enroll(p);

    // The researcher buys; the committee signs, the researcher confirms, the gateways release; exactly the 4 extracts open.
    const buyerSecret = keccak256(toHex('scripted run researcher x25519'), 'bytes');
    const buyerKey = x25519.getPublicKey(buyerSecret);
    const first = await purchase(ctx, study);
    expect(first.amount).toBe(4n * PRICE);
    const stages: string[] = [];
    const r1 = await requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: first.purchaseId, buyerKey, threshold: 2, onProgress: (s) => stages.push(s) });
    expect(stages).toEqual(['signatures', 'confirmed', 'released']);
    expect(r1.confirmation).not.toBeNull();
    expect((await readPurchase(f.client, f.contracts, first.purchaseId))!.status).toBe('Confirmed');
    const store = gatewayCiphertexts(f.access.refs);
    const opened1 = await openPurchasedExtracts({ buyer: researcher.address, buyerSecretKey: buyerSecret, purchaseId: first.purchaseId, studyId: study, threshold: 2, released: r1.released, store });
    expect(opened1.map((o) => o.extractHash).sort()).toEqual([...extractOf.values()].sort());
    for (const o of opened1) expect(o.resources.some((r) => r.resourceType === 'Patient')).toBe(true);

    // Patient 3 revokes (gaslessly); a second purchase pays and releases only the 3 others, with gateway 0 down.
    await f.revoke(patients[3]!, study);
    const second = await purchase(ctx, study);
    expect(second.amount).toBe(3n * PRICE);
    await f.access.stopGateway(0);
    const r2 = await requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: second.purchaseId, buyerKey, threshold: 2 });
    await f.access.openGateway(0, Number(new URL(f.access.refs[0]!.url).port));
    const opened2 = await openPurchasedExtracts({
      buyer: researcher.address,
      buyerSecretKey: buyerSecret,
      purchaseId: second.purchaseId,
      studyId: study,
      threshold: 2,
      released: r2.released,
      store: gatewayCiphertexts(f.access.refs.slice(1)),
    });
    expect(opened2.map((o) => o.extractHash).sort()).toEqual(patients.slice(0, 3).map((p) => extractOf.get(p.study.address)!).sort());

    // Claims, gasless, each to an address of the holder's choosing: to the cent.
    const expected = [2n * PRICE, 2n * PRICE, 2n * PRICE, PRICE];
    let claimed = 0n;
    for (const [i, p] of patients.entries()) {
      expect(await claimable(f.client, f.contracts, study, p.study.address)).toBe(expected[i]);
      const payee = privateKeyToAccount(keccak256(toHex(`scripted run payee ${i}`))).address;
      const c = await claimRelayed(f.ctx(f.researcher), p.study, f.relayer.url, study, payee);
      expect(c.amount).toBe(expected[i]);
      expect(await usd(payee)).toBe(expected[i]);
      claimed += c.amount;
    }
    expect(claimed).toBe(first.amount + second.amount);
    expect(claimed).toBe(35_000_000n);

    // A purchase nobody confirms is refunded after the deadline; the committee then releases nothing.
    const third = await purchase(ctx, study);
    const before = await usd(researcher.address);
    await f.advance(DAY + 1);
    await expect(requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: third.purchaseId, buyerKey, threshold: 2 })).rejects.toMatchObject({ code: 'DEADLINE_PASSED' });
    expect((await refund(ctx, third.purchaseId)).amount).toBe(third.amount);
    expect(await usd(researcher.address)).toBe(before + third.amount);
    expect((await readPurchase(f.client, f.contracts, third.purchaseId))!.status).toBe('Refunded');
    await expect(requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: third.purchaseId, buyerKey, threshold: 2 })).rejects.toMatchObject({ code: 'PURCHASE_REFUNDED' });
    expect(await usd(researcher.address)).toBe(100_000_000n - claimed);
    // The market holds nothing more.
    expect(await usd(f.contracts.StudyMarket)).toBe(0n);

    // Unlinkability: no transaction (sender, target, input) and no log (topics, data) of the whole
    // run mentions a patient's main address; the study addresses do appear (they are the holders).
    const mains = patients.map((p) => p.main.slice(2).toLowerCase());
    const studies = patients.map((p) => p.study.address.slice(2).toLowerCase());
    const latest = await f.client.getBlockNumber();
    let seenStudy = 0;
    for (let n = 0n; n <= latest; n++) {
      const block = await f.client.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        const receipt = await f.client.getTransactionReceipt({ hash: tx.hash });
        const text = [tx.from, tx.to ?? '', tx.input, ...receipt.logs.flatMap((l) => [l.address, l.data, ...l.topics])].join(' ').toLowerCase();
        for (const m of mains) expect(text).not.toContain(m);
        if (studies.some((s) => text.includes(s))) seenStudy++;
      }
    }
    expect(seenStudy).toBeGreaterThan(0);
  }, 240_000);
});
