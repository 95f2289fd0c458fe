// The IRB's consent-trail audit on the real stack (issue 8, item 3): anvil with the deployed
// contracts, the relayer, three release gateways (2 of 3). A study (k = 2, 5 tUSD, consent for 3
// days) is approved; three participants enroll with real proofs; a purchase is confirmed by the
// committee; one participant revokes; a second purchase is refunded after its deadline; two holders
// claim. The trail at that block reconciles (paid = claimed + claimable + refunded), its bundle
// verifies offline and on chain (still, after the chain moved on: every read is pinned), and one
// altered line fails it, naming the event: offline by the digest, and on chain once the digest is
// recomputed. A third purchase left pending is escrowed in the totals. After the consents expire, a
// later audit derives the expiries by block time.
import { x25519 } from '@noble/curves/ed25519.js';
import { keccak256, toHex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditBundle, auditCsv, auditDigest, studyAuditTrail, verifyAuditBundle, type AuditBundle, type AuditTrail } from '@consentry/sdk/research/audit';
import { claimRelayed, faucet, purchase, refund } from '@consentry/sdk/research/market';
import { requestPurchaseRelease } from '@consentry/sdk/research/purchase-release';
import { DAY, startMarketFixture, type MarketFixture, type Participant } from './testing/market-fixture.ts';

const PRICE = 5_000_000n;

let f: MarketFixture;
let client: PublicClient;
let study: bigint;
let patients: Participant[];
let trail: AuditTrail;
let bundle: AuditBundle;

/** The bundle as the CLI writes it, with one line changed, parsed back. */
function alterLine(b: AuditBundle, find: (line: string, i: number, lines: string[]) => boolean, change: (line: string) => string | undefined): unknown {
  const lines = JSON.stringify(b, null, 2).split('\n');
  const i = lines.findIndex(find);
  expect(i, 'the line to alter').toBeGreaterThanOrEqual(0);
  const changed = change(lines[i]!);
  if (changed === undefined) lines.splice(i, 1);
  else lines[i] = changed;
  return JSON.parse(lines.join('\n'));
}

const withDigest = (b: AuditBundle): AuditBundle => ({ ...b, sha256: auditDigest(b) });

beforeAll(async () => {
  f = await startMarketFixture();
  client = f.client as unknown as PublicClient;
  study = await f.approvedStudy({ pricePerParticipant: PRICE, minCohort: 2, consentDuration: BigInt(3 * DAY) });
  patients = [0, 1, 2].map((i) => f.participant('audit-trail', i, study));
  for (const p of patients) await f.enroll(p, study);

  const ctx = f.ctx(f.researcher);
  await faucet(ctx, f.researcher.address, 100_000_000n);
  const first = await purchase(ctx, study);
  const buyerKey = x25519.getPublicKey(keccak256(toHex('audit researcher x25519'), 'bytes'));
  await requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: first.purchaseId, buyerKey, threshold: 2 });

  await f.revoke(patients[2]!, study);

  const second = await purchase(ctx, study);
  await f.advance(DAY + 1);
  await refund(ctx, second.purchaseId);
  for (const [i, p] of patients.slice(0, 2).entries()) {
    await claimRelayed(ctx, p.study, f.relayer.url, study, privateKeyToAccount(keccak256(toHex(`audit payee ${i}`))).address);
  }
  trail = await studyAuditTrail(client, f.contracts, study, { fromBlock: f.fromBlock });
  bundle = auditBundle(trail);
}, 120_000);

afterAll(async () => {
  await f?.close();
});

describe('the consent-trail audit of a study (issue 8, item 3)', () => {
  it('lists every decision, enrollment, revocation, purchase, release, refund and claim in chain order, with totals that reconcile', () => {
    expect(trail.events.map((e) => e.kind)).toEqual([
      'created', 'approved', 'enrolled', 'enrolled', 'enrolled', 'purchased', 'confirmed', 'revoked', 'purchased', 'refunded', 'claimed', 'claimed',
    ]);
    for (const e of trail.events) {
      expect(e.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(Number(e.blockNumber)).toBeLessThanOrEqual(Number(trail.auditBlock));
      expect(e.timestamp).toBeGreaterThan(0);
    }
    const enrolled = trail.events.filter((e) => e.kind === 'enrolled');
    expect(enrolled.map((e) => e.participant)).toEqual(patients.map((p) => p.study.address));
    // Pseudonymous: the participants' main addresses appear nowhere in the trail.
    const text = JSON.stringify(trail).toLowerCase();
    for (const p of patients) expect(text).not.toContain(p.main.slice(2).toLowerCase());

    expect(trail.totals).toMatchObject({
      enrolled: 3, revoked: 1, expired: 0, active: 2, activeOnChain: 2, participantCount: 3, marketActiveCount: 2, checkpointedLeft: 1,
      purchases: 2,
      paid: (5n * PRICE).toString(),
      confirmed: (3n * PRICE).toString(),
      refunded: (2n * PRICE).toString(),
      escrowed: '0',
      claimed: (2n * PRICE).toString(),
      claimable: PRICE.toString(), // the revoker's share of the confirmed purchase, not yet claimed
      rewardPerToken: PRICE.toString(),
    });
    const t = trail.totals;
    // With nothing pending, the identity holds exactly.
    expect(BigInt(t.paid)).toBe(BigInt(t.claimed) + BigInt(t.claimable) + BigInt(t.refunded));
    expect(trail.holders.map((h) => h.status)).toEqual(['active', 'active', 'revoked']);
  });

  it('exports CSV with a header and one line per event', () => {
    const lines = auditCsv(trail).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1)).toHaveLength(trail.events.length + 1);
    expect(lines[0]).toMatch(/^seq,kind,time,timestamp,blockNumber,transactionHash,logIndex,description,/);
    const purchased = lines.find((l) => l.split(',')[1] === 'purchased')!;
    // The description has commas, so it is quoted.
    expect(purchased).toContain(`"Researcher ${f.researcher.address} bought purchase 1: 3 participants at ${PRICE}, ${3n * PRICE} in escrow"`);
  });

  it('verifies offline and on chain, at its block, after the chain moved on', async () => {
    await f.advance(60);
    expect(await verifyAuditBundle(JSON.parse(JSON.stringify(bundle)))).toMatchObject({ ok: true, problems: [], chainChecked: false });
    expect(await verifyAuditBundle(JSON.parse(JSON.stringify(bundle)), { client })).toMatchObject({ ok: true, problems: [], chainChecked: true });
  });

  it('fails loudly on one altered amount, naming the event: offline by the digest, on chain once the digest is recomputed', async () => {
    const purchased = trail.events.find((e) => e.kind === 'purchased')!;
    const real = `"amount": "${3n * PRICE}"`;
    const forged = alterLine(bundle, (l) => l.trim() === `${real},` || l.trim() === real, (l) => l.replace(String(3n * PRICE), String(4n * PRICE))) as AuditBundle;

    const offline = await verifyAuditBundle(forged);
    expect(offline.ok).toBe(false);
    expect(offline.problems.join('\n')).toContain("The bundle's SHA-256 does not match its content");
    expect(offline.problems.join('\n')).toContain(`event #${purchased.seq} (purchased of purchase 1;`);

    const online = await verifyAuditBundle(withDigest(forged), { client });
    expect(online.ok).toBe(false);
    expect(online.problems.join('\n')).not.toContain('SHA-256');
    expect(online.problems).toContain(
      `event #${purchased.seq} (purchased of purchase 1; block ${purchased.blockNumber}, tx ${purchased.transactionHash.slice(0, 10)}…${purchased.transactionHash.slice(-4)} log ${purchased.logIndex}): amount is "${4n * PRICE}" in the bundle, the chain says "${3n * PRICE}"`,
    );
  });

  it('a changed release hash passes every offline check once the digest is recomputed, and the chain names it', async () => {
    const confirmed = trail.events.find((e) => e.kind === 'confirmed')!;
    const fake = keccak256(toHex('another release'));
    const forged = withDigest(alterLine(bundle, (l) => l.includes(confirmed.releaseHash), (l) => l.replace(confirmed.releaseHash, fake)) as AuditBundle);
    expect(await verifyAuditBundle(forged)).toMatchObject({ ok: true, problems: [] });
    const online = await verifyAuditBundle(forged, { client });
    expect(online.ok).toBe(false);
    expect(online.problems).toHaveLength(1);
    expect(online.problems[0]).toMatch(new RegExp(`^event #${confirmed.seq} \\(confirmed of purchase 1; .*\\): releaseHash is "${fake}" in the bundle, the chain says "${confirmed.releaseHash}"$`));
  });

  it('a dropped claim is named offline and on chain', async () => {
    const claim = trail.events.findLast((e) => e.kind === 'claimed')!;
    const dropped = withDigest({ ...bundle, events: bundle.events.filter((e) => e !== claim) });
    const offline = await verifyAuditBundle(dropped);
    expect(offline.ok).toBe(false);
    expect(offline.problems.join('\n')).toMatch(/Holder 0x[0-9a-fA-F]{40}: claimed is \d+, its claim events sum to 0/);
    expect(offline.problems.join('\n')).toContain(`Totals: claimed is ${2n * PRICE}, but the events and holders give ${PRICE}`);
    const online = await verifyAuditBundle(dropped, { client });
    expect(online.problems.join('\n')).toContain(`The chain has event #${claim.seq} (claimed by ${claim.holder};`);
  });

  it('a bundle of another block hash, or not a bundle at all, is refused in words', async () => {
    const other = withDigest({ ...bundle, auditBlockHash: keccak256(toHex('another block')) });
    const online = await verifyAuditBundle(other, { client });
    expect(online.ok).toBe(false);
    expect(online.problems.join('\n')).toContain(`The audit block ${bundle.auditBlock} has hash ${bundle.auditBlockHash} on chain`);
    const junk = await verifyAuditBundle({ version: 1, events: 'none' });
    expect(junk.ok).toBe(false);
    expect(junk.problems.join('\n')).toContain('Not an audit bundle: events');
  });

  it('a pending purchase is escrowed: paid = claimed + claimable + refunded + escrowed, and confirmed = claimed + claimable', async () => {
    const pending = await purchase(f.ctx(f.researcher), study);
    const now = await studyAuditTrail(client, f.contracts, study, { fromBlock: f.fromBlock });
    expect(now.events.at(-1)).toMatchObject({ kind: 'purchased', purchaseId: pending.purchaseId.toString(), cohort: 2 });
    const t = now.totals;
    expect(t).toMatchObject({ purchases: 3, paid: (7n * PRICE).toString(), escrowed: (2n * PRICE).toString(), confirmed: (3n * PRICE).toString(), claimable: PRICE.toString() });
    expect(BigInt(t.paid)).toBe(BigInt(t.claimed) + BigInt(t.claimable) + BigInt(t.refunded) + BigInt(t.escrowed));
    expect(BigInt(t.confirmed)).toBe(BigInt(t.claimed) + BigInt(t.claimable));
    expect(await verifyAuditBundle(auditBundle(now), { client })).toMatchObject({ ok: true, problems: [] });
  });

  it('derives the expiries by block time: a later audit finds the two remaining consents expired', async () => {
    await f.advance(3 * DAY);
    const later = await studyAuditTrail(client, f.contracts, study, { fromBlock: f.fromBlock });
    const expired = later.events.filter((e) => e.kind === 'expired');
    expect(expired.map((e) => e.participant).sort()).toEqual(patients.slice(0, 2).map((p) => p.study.address).sort());
    for (const e of expired) {
      expect(e.transactionHash).toBeNull();
      expect(e.timestamp).toBe(later.holders.find((h) => h.participant === e.participant)!.expiresAt);
    }
    // Nothing checkpointed them on chain yet: the market still counts them, ConsentToken does not.
    expect(later.totals).toMatchObject({ enrolled: 3, revoked: 1, expired: 2, active: 0, activeOnChain: 0, marketActiveCount: 2, checkpointedLeft: 1, escrowed: (2n * PRICE).toString() });
    expect(await verifyAuditBundle(auditBundle(later), { client })).toMatchObject({ ok: true, problems: [] });
    // The earlier snapshot still verifies: its reads are pinned to its block.
    expect((await verifyAuditBundle(bundle, { client })).ok).toBe(true);
  });
});
