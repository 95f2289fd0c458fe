// The IRB page's pure helpers: who may decide (in words), which decisions a status allows, the
// rationale's hash (SHA-256 of its UTF-8 text, as `sha256sum` gives), the totals' identities with a
// verdict each (a mismatch found), and the cohort over time the chart draws.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditTotals } from '@consentry/sdk/research/audit';
import { cohortSeries, decisionsFor, eventSubject, rationaleHash, reconcile, standingWords } from './irb.client.ts';

const totals = (over: Partial<AuditTotals> = {}): AuditTotals => ({
  enrolled: 3, revoked: 1, expired: 0, active: 2, activeOnChain: 2, participantCount: 3, marketActiveCount: 2, checkpointedLeft: 0,
  purchases: 1, paid: '15000000', confirmed: '15000000', refunded: '0', escrowed: '0', claimed: '5000000', claimable: '10000000', rewardPerToken: '5000000',
  ...over,
});
const at = (seq: number) => ({ seq, blockNumber: String(seq), timestamp: 1000 + seq, transactionHash: `0x${'1'.repeat(64)}` as const, logIndex: 0 });
const P = (n: number) => `0x${String(n).repeat(40)}` as const;

describe('irb helpers', () => {
  it('only a registered, accredited IRB may decide; the others are told why in words', () => {
    expect(standingWords({ registered: true, kind: 'irb', accredited: true }).canDecide).toBe(true);
    const cases = [
      [{ registered: false, kind: 'unknown', accredited: false }, /not a registered organisation/],
      [{ registered: true, kind: 'researcher', accredited: true }, /not an institutional review board/],
      [{ registered: true, kind: 'irb', accredited: false }, /not accredited right now/],
    ] as const;
    for (const [o, words] of cases) {
      const s = standingWords(o);
      expect(s.canDecide).toBe(false);
      expect(s.words).toMatch(words);
    }
  });

  it('approve and reject a pending study; suspend an approved or paused one; nothing after', () => {
    expect(decisionsFor('Pending')).toEqual(['approve', 'reject']);
    expect(decisionsFor('Approved')).toEqual(['suspend']);
    expect(decisionsFor('Paused')).toEqual(['suspend']);
    for (const s of ['Rejected', 'Closed', 'Suspended'] as const) expect(decisionsFor(s)).toEqual([]);
  });

  it('the rationale hash is the SHA-256 of its UTF-8 text', () => {
    const text = 'Approved: synthetic data only — risks minimal, consent text complete.';
    expect(rationaleHash(text)).toBe(`0x${createHash('sha256').update(text, 'utf8').digest('hex')}`);
  });

  it('reconciles the totals, each identity with its numbers, and finds a mismatch', () => {
    const ok = reconcile(totals(), (v) => `${Number(v) / 1e6} tUSD`);
    expect(ok.map((r) => r.ok)).toEqual([true, true, true]);
    expect(ok[0]!.text).toBe('active 2 = enrolled 3 − revoked 1 − expired 0');
    expect(ok[2]!.text).toBe('paid 15 tUSD = claimed 5 tUSD + claimable 10 tUSD + refunded 0 tUSD');
    const pending = reconcile(totals({ paid: '30000000', escrowed: '15000000' }));
    expect(pending[2]).toMatchObject({ ok: true, text: 'paid 30000000 = claimed 5000000 + claimable 10000000 + refunded 0 + escrowed 15000000' });
    expect(reconcile(totals({ active: 3, activeOnChain: 3 }))[0]!.ok).toBe(false);
    expect(reconcile(totals({ activeOnChain: 1 }))[1]!.ok).toBe(false);
    expect(reconcile(totals({ claimable: '9999999' }))[2]!.ok).toBe(false);
  });

  it('the cohort over time counts enrolments and the active after each change', () => {
    const events: AuditEvent[] = [
      { kind: 'approved', ...at(0), irb: P(9), rationaleHash: `0x${'2'.repeat(64)}` },
      { kind: 'enrolled', ...at(1), participant: P(1), nullifier: '1', extractHash: `0x${'3'.repeat(64)}`, expiresAt: 5000 },
      { kind: 'enrolled', ...at(2), participant: P(2), nullifier: '2', extractHash: `0x${'4'.repeat(64)}`, expiresAt: 5000 },
      { kind: 'revoked', ...at(3), participant: P(1) },
      { kind: 'expired', seq: 4, blockNumber: null, timestamp: 5000, transactionHash: null, logIndex: null, participant: P(2) },
    ];
    expect(cohortSeries(events)).toEqual([
      { time: 1001, enrolled: 1, active: 1 },
      { time: 1002, enrolled: 2, active: 2 },
      { time: 1003, enrolled: 2, active: 1 },
      { time: 5000, enrolled: 2, active: 0 },
    ]);
    expect(eventSubject(events[0]!)).toBe(P(9));
    expect(eventSubject(events[3]!)).toBe(P(1));
  });
});
