// The audit trail's offline half, on a hand-made trail: two participants, a confirmed purchase, a
// revocation, a claim and an expiry derived by time. The on-chain half is in
// workers/src/research/audit.test.ts.
import { describe, expect, it } from 'vitest';
import { auditBundle, auditCsv, auditDigest, checkAuditTrail, csvField, verifyAuditBundle, type AuditEvent, type AuditTrail } from './audit.ts';

const A = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const;
const H = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const;
const at = (block: number, timestamp: number) => ({ seq: 0, blockNumber: String(block), timestamp, transactionHash: H(0x1000 + block), logIndex: 0 });
const [RESEARCHER, IRB, P1, P2, PAYEE] = [A(1), A(2), A(0xa1), A(0xa2), A(0xb1)];

function trail(): AuditTrail {
  const events: AuditEvent[] = [
    { kind: 'created', ...at(1, 100), researcher: RESEARCHER, protocolHash: H(11), consentHash: H(12), criteriaHash: '42' },
    { kind: 'approved', ...at(2, 110), irb: IRB, rationaleHash: H(13) },
    { kind: 'enrolled', ...at(3, 120), participant: P1, nullifier: '7', extractHash: H(21), expiresAt: 1000 },
    { kind: 'enrolled', ...at(4, 130), participant: P2, nullifier: '8', extractHash: H(22), expiresAt: 1010 },
    { kind: 'purchased', ...at(5, 140), purchaseId: '1', buyer: RESEARCHER, cohort: 2, pricePerParticipant: '5', amount: '10', deadline: 900 },
    { kind: 'confirmed', ...at(6, 150), purchaseId: '1', releaseHash: H(31), rewardPerToken: '5' },
    { kind: 'revoked', ...at(7, 160), participant: P2 },
    { kind: 'claimed', ...at(8, 170), holder: P1, recipient: PAYEE, amount: '5' },
    { kind: 'expired', seq: 0, blockNumber: null, timestamp: 1000, transactionHash: null, logIndex: null, participant: P1 },
  ];
  events.forEach((e, i) => (e.seq = i));
  return {
    chainId: 31337,
    contracts: { StudyRegistry: A(0xc1), ConsentToken: A(0xc2), StudyMarket: A(0xc3) },
    studyId: '1',
    fromBlock: '0',
    auditBlock: '9',
    auditBlockHash: H(0x99),
    auditTime: 1005,
    events,
    holders: [
      { participant: P1, enrolledAt: 120, expiresAt: 1000, status: 'expired', activeOnChain: false, claimed: '5', claimable: '0' },
      { participant: P2, enrolledAt: 130, expiresAt: 1010, status: 'revoked', activeOnChain: false, claimed: '0', claimable: '5' },
    ],
    totals: {
      enrolled: 2, revoked: 1, expired: 1, active: 0, activeOnChain: 0, participantCount: 2,
      // P1 expired but nothing checkpointed it: the market still counts it.
      marketActiveCount: 1, checkpointedLeft: 1,
      purchases: 1, paid: '10', confirmed: '10', refunded: '0', escrowed: '0', claimed: '5', claimable: '5', rewardPerToken: '5',
    },
  };
}

describe('checkAuditTrail', () => {
  it('finds nothing wrong with a consistent trail, and its bundle verifies offline', async () => {
    expect(checkAuditTrail(trail())).toEqual([]);
    expect(await verifyAuditBundle(JSON.parse(JSON.stringify(auditBundle(trail()))))).toEqual(expect.objectContaining({ ok: true, problems: [], chainChecked: false }));
  });

  it('names a missing expiry, a gap in the numbering, and a purchase whose amount is not cohort × price', () => {
    const t = trail();
    t.events = t.events.filter((e) => e.kind !== 'expired');
    expect(checkAuditTrail(t).join('\n')).toContain(`The consent of ${P1} (event #2 (enrolled of ${P1}; block 3,`);
    const gap = trail();
    gap.events.splice(6, 1); // the revocation
    expect(checkAuditTrail(gap).join('\n')).toContain(`event #7 (claimed by ${P1}; block 8, tx 0x00000000…1008 log 0) is at position 6`);
    const dear = trail();
    (dear.events[4] as Extract<AuditEvent, { kind: 'purchased' }>).amount = '11';
    expect(checkAuditTrail(dear)).toContain(`event #4 (purchased of purchase 1; block 5, tx 0x00000000…1005 log 0): amount is 11, but cohort 2 × price 5 is 10`);
    const crowd = trail();
    const bought = crowd.events[4] as Extract<AuditEvent, { kind: 'purchased' }>;
    Object.assign(bought, { cohort: 3, amount: '15' });
    expect(checkAuditTrail(crowd)).toContain(`event #4 (purchased of purchase 1; block 5, tx 0x00000000…1005 log 0): cohort is 3, but 2 consents were active then by the events`);
  });

  it('checks the identities: a pending purchase is escrowed, neither claimable nor refunded', () => {
    const t = trail();
    // Bought when only P1 was active, still pending at the audit block (P1 expired meanwhile).
    t.events.splice(8, 0, { kind: 'purchased', ...at(9, 180), purchaseId: '2', buyer: RESEARCHER, cohort: 1, pricePerParticipant: '5', amount: '5', deadline: 2000 });
    t.events.forEach((e, i) => (e.seq = i));
    t.totals = { ...t.totals, purchases: 2, paid: '15', escrowed: '5' };
    expect(checkAuditTrail(t)).toEqual([]);
    t.totals = { ...t.totals, escrowed: '0', claimable: '10' };
    t.holders[1]!.claimable = '10';
    const problems = checkAuditTrail(t);
    expect(problems).toContain('Totals: escrowed is 0, but the events and holders give 5');
    expect(problems).toContain('Totals do not reconcile: paid 15 ≠ confirmed 10 + refunded 0 + escrowed 0');
    expect(problems).toContain('Totals do not reconcile: confirmed 10 ≠ claimed 5 + claimable 10');
  });
});

describe('auditBundle and its digest', () => {
  it('is the same whatever the key order, and a changed byte is found', async () => {
    const b = auditBundle(trail());
    const reordered = Object.fromEntries(Object.entries(b).reverse()) as typeof b;
    expect(auditDigest(reordered)).toBe(b.sha256);
    const changed = JSON.parse(JSON.stringify(b).replace('"rationaleHash":"0x000', '"rationaleHash":"0x001'));
    const report = await verifyAuditBundle(changed);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringContaining("The bundle's SHA-256 does not match its content")]);
  });

  it('refuses what is not a bundle of this version, in words', async () => {
    const report = await verifyAuditBundle({ ...auditBundle(trail()), version: 2 });
    expect(report).toMatchObject({ ok: false, chainChecked: false });
    expect(report.problems.join('\n')).toContain('Not an audit bundle: version');
  });
});

describe('auditCsv', () => {
  it('quotes as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
  });

  it('writes a header and one CRLF line per event; an expiry has no block or transaction', () => {
    const lines = auditCsv(trail()).split('\r\n');
    expect(lines).toHaveLength(trail().events.length + 2);
    expect(lines.at(-1)).toBe('');
    const expired = lines[9]!.split(',');
    expect(expired.slice(0, 7)).toEqual(['8', 'expired', '1970-01-01T00:16:40.000Z', '1000', '', '', '']);
    expect(lines[5]).toContain(`,"Researcher ${RESEARCHER} bought purchase 1: 2 participants at 5, 10 in escrow",`);
  });
});
