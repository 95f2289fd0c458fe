// The IRB's PDF report from a hand-made audit trail long enough to run over several pages: it is a
// PDF pdf-lib parses back, with its pages, the bundle's SHA-256 as subject and keyword and drawn in
// the content of every page (content streams inflated and their hex strings decoded), the totals'
// verdicts drawn, and text outside the standard font's characters folded rather than failing.
import { unzlibSync } from 'fflate';
import { PDFArray, PDFDocument, PDFName, PDFRawStream, type PDFPage } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { auditBundle, type AuditEvent, type AuditTrail } from '@consentry/sdk/research/audit';
import { auditReportPdf, winAnsi } from './audit-report.ts';

const hex = (n: number, bytes: number) => `0x${n.toString(16).padStart(bytes * 2, '0')}` as `0x${string}`;
const at = (seq: number) => ({ seq, blockNumber: String(100 + seq), timestamp: 1_760_000_000 + seq * 12, transactionHash: hex(seq + 1, 32), logIndex: 0 });

function trail(enrolments: number): AuditTrail {
  const events: AuditEvent[] = [
    { kind: 'created', ...at(0), researcher: hex(0xaa, 20), protocolHash: hex(1, 32), consentHash: hex(2, 32), criteriaHash: '12345' },
    { kind: 'approved', ...at(1), irb: hex(0xbb, 20), rationaleHash: hex(3, 32) },
  ];
  for (let i = 0; i < enrolments; i++) {
    events.push({ kind: 'enrolled', ...at(events.length), participant: hex(0x1000 + i, 20), nullifier: String(i + 1), extractHash: hex(0x2000 + i, 32), expiresAt: 1_800_000_000 });
  }
  events.push({ kind: 'purchased', ...at(events.length), purchaseId: '1', buyer: hex(0xaa, 20), cohort: enrolments, pricePerParticipant: '5000000', amount: String(enrolments * 5_000_000), deadline: 1_800_000_000 });
  return {
    chainId: 31337,
    contracts: { StudyRegistry: hex(0x51, 20), ConsentToken: hex(0x52, 20), StudyMarket: hex(0x53, 20) },
    studyId: '7',
    fromBlock: '0',
    auditBlock: '999',
    auditBlockHash: hex(0x999, 32),
    auditTime: 1_760_100_000,
    events,
    holders: [],
    totals: {
      enrolled: enrolments, revoked: 0, expired: 0, active: enrolments, activeOnChain: enrolments, participantCount: enrolments, marketActiveCount: enrolments,
      checkpointedLeft: 0, purchases: 1, paid: String(enrolments * 5_000_000), confirmed: '0', refunded: '0', escrowed: String(enrolments * 5_000_000),
      claimed: '0', claimable: '0', rewardPerToken: '0',
    },
  };
}

/** The text a page draws: its content streams inflated, each hex string operand decoded. */
function pageText(doc: PDFDocument, page: PDFPage): string {
  const contents = page.node.get(PDFName.of('Contents'));
  const refs = contents instanceof PDFArray ? contents.asArray() : [contents];
  let out = '';
  for (const ref of refs) {
    const stream = doc.context.lookup(ref);
    if (!(stream instanceof PDFRawStream)) continue;
    const raw = stream.getContents();
    const filter = stream.dict.get(PDFName.of('Filter'));
    const bytes = filter === PDFName.of('FlateDecode') ? unzlibSync(raw) : raw;
    const ops = new TextDecoder('latin1').decode(bytes);
    for (const m of ops.matchAll(/<([0-9A-Fa-f]*)>\s*Tj/g)) out += `${Buffer.from(m[1]!, 'hex').toString('latin1')}\n`;
  }
  return out;
}

describe('audit report PDF', () => {
  it('parses back with its pages, the bundle sha256 in its metadata and on every page, and the verdicts', async () => {
    const bundle = auditBundle(trail(150));
    const bytes = await auditReportPdf(bundle, {
      studyTitle: 'Type 2 diabetes − HbA1c ≥ 6.5 %',
      amount: (v) => `${Number(v) / 1e6} tUSD`,
      reconciliation: [
        { name: 'Active consents', text: 'active 150 = enrolled 150 − revoked 0 − expired 0', ok: true },
        { name: 'Payments', text: 'paid 750 tUSD = claimed 0 + claimable 0 + refunded 0 + escrowed 750 tUSD', ok: true },
      ],
    });
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe('%PDF-');
    const doc = await PDFDocument.load(bytes, { updateMetadata: false });
    expect(doc.getPageCount()).toBeGreaterThanOrEqual(2); // 153 events do not fit one page
    expect(doc.getTitle()).toBe('Consent-trail audit of study #7');
    expect(doc.getSubject()).toContain(bundle.sha256);
    expect(doc.getKeywords()).toContain(`sha256:${bundle.sha256}`);
    const texts = doc.getPages().map((p) => pageText(doc, p));
    for (const t of texts) expect(t).toContain(bundle.sha256);
    const all = texts.join('');
    expect(all).toContain('Study: Type 2 diabetes - HbA1c >= 6.5 %');
    expect(all).toContain('OK');
    expect(all).toContain('Active consents: active 150 = enrolled 150 - revoked 0 - expired 0');
    expect(all).toContain(`Audit block 999`);
    expect(all).toContain('0x0000000000000000000000000000000000001095'); // the last participant, on a later page
    expect(texts[0]).not.toContain('0x0000000000000000000000000000000000001095');
    expect(all).toContain('750 tUSD');
  });

  it('says MISMATCH when an identity does not hold', async () => {
    const bytes = await auditReportPdf(auditBundle(trail(3)), { reconciliation: [{ name: 'Payments', text: 'paid 15 = claimed 0 + claimable 0 + refunded 0', ok: false }] });
    const doc = await PDFDocument.load(bytes);
    expect(doc.getPageCount()).toBe(1);
    expect(pageText(doc, doc.getPage(0))).toContain('MISMATCH');
  });

  it('folds characters the standard font lacks', () => {
    expect(winAnsi('a − b … ≥ 3 ✓')).toBe('a - b ... >= 3 ?');
  });
});
