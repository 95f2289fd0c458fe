/**
 * The IRB's consent-trail audit as a PDF report (pdf-lib, made in the browser): the study, the audit
 * block and its hash, the totals with their identities and whether each holds, every event of the
 * trail in a table continued across pages, and the JSON bundle's SHA-256, printed on every page and
 * set as the document's subject and keywords, so the paper ties to the bundle `consentry audit
 * verify` checks. The standard Helvetica font carries only WinAnsi characters: text is folded to
 * them (a minus sign becomes '-', an ellipsis '...').
 */
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { AuditBundle, AuditEvent } from '@consentry/sdk/research/audit';

export interface AuditReportOptions {
  /** The study's title from its description, when known. */
  studyTitle?: string | null;
  /** An amount (decimal base units) in words, e.g. with the token's decimals and symbol. */
  amount?: (value: string) => string;
  /** The identities with their numbers and verdicts (irb.client's reconcile). */
  reconciliation?: ReadonlyArray<{ name: string; text: string; ok: boolean }>;
}

const PAGE = { width: 595.28, height: 841.89 }; // A4 in points
const MARGIN = 40;
const COLUMNS = [
  { title: '#', width: 22 },
  { title: 'Time (UTC)', width: 92 },
  { title: 'Event', width: 52 },
  { title: 'Participant / subject', width: 178 },
  { title: 'Amount', width: 66 },
  { title: 'Block, transaction', width: 105 },
] as const;
const ROW = 11;
const TABLE_SIZE = 7;

const FOLD: Record<string, string> = { '−': '-', '–': '-', '—': '-', '…': '...', '≥': '>=', '≤': '<=', '×': 'x', '‘': "'", '’': "'", '“': '"', '”': '"' };

/** Text the standard font can draw: known symbols folded, anything else outside printable ASCII as '?'. */
export function winAnsi(text: string): string {
  return [...text].map((ch) => FOLD[ch] ?? (/[\x20-\x7E]/.test(ch) ? ch : '?')).join('');
}

/** `text` cut (with '...') to fit `width` points. */
function fit(font: PDFFont, size: number, text: string, width: number): string {
  let t = winAnsi(text);
  if (font.widthOfTextAtSize(t, size) <= width) return t;
  while (t.length > 1 && font.widthOfTextAtSize(`${t}...`, size) > width) t = t.slice(0, -1);
  return `${t}...`;
}

/** Words wrapped to `width` points. */
function wrap(font: PDFFont, size: number, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of winAnsi(text).split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && font.widthOfTextAtSize(next, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', '');
const short = (h: string) => `${h.slice(0, 10)}...${h.slice(-6)}`;

function subject(e: AuditEvent): string {
  if ('participant' in e) return e.participant;
  if ('holder' in e) return `${e.holder} to ${e.recipient}`;
  if ('irb' in e) return `IRB ${e.irb}, rationale ${short(e.rationaleHash)}`;
  if (e.kind === 'purchased') return `purchase ${e.purchaseId}: ${e.cohort} participants`;
  if ('purchaseId' in e) return `purchase ${e.purchaseId}`;
  if (e.kind === 'created') return `researcher ${e.researcher}`;
  if (e.kind === 'closed') return `was ${e.from}`;
  return '';
}

/** The report as PDF bytes. */
export async function auditReportPdf(bundle: AuditBundle, opts: AuditReportOptions = {}): Promise<Uint8Array> {
  const amount = opts.amount ?? ((v: string) => v);
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const mono = await doc.embedFont(StandardFonts.Courier);
  const title = `Consent-trail audit of study #${bundle.studyId}`;
  doc.setTitle(title);
  doc.setSubject(`Audit bundle sha256 ${bundle.sha256}`);
  doc.setKeywords([`sha256:${bundle.sha256}`, `study:${bundle.studyId}`, `block:${bundle.auditBlock}`, `chain:${bundle.chainId}`]);
  doc.setCreator('Consentry');
  doc.setProducer('Consentry (pdf-lib)');
  doc.setCreationDate(new Date(bundle.auditTime * 1000));

  const width = PAGE.width - 2 * MARGIN;
  let page: PDFPage = doc.addPage([PAGE.width, PAGE.height]);
  let y = PAGE.height - MARGIN;
  const text = (t: string, o: { size?: number; f?: PDFFont; x?: number; color?: ReturnType<typeof rgb> } = {}) => {
    page.drawText(winAnsi(t), { x: o.x ?? MARGIN, y, size: o.size ?? 10, font: o.f ?? font, color: o.color ?? rgb(0, 0, 0) });
  };
  const para = (t: string, size = 9, f: PDFFont = font) => {
    for (const line of wrap(f, size, t, width)) {
      text(line, { size, f });
      y -= size + 3;
    }
  };

  text(title, { size: 16, f: bold });
  y -= 22;
  if (opts.studyTitle) para(`Study: ${opts.studyTitle}`, 11);
  para(`Chain ${bundle.chainId}. StudyRegistry ${bundle.contracts.StudyRegistry}, ConsentToken ${bundle.contracts.ConsentToken}, StudyMarket ${bundle.contracts.StudyMarket}.`);
  para(`Audit block ${bundle.auditBlock} (${iso(bundle.auditTime)} UTC), block hash ${bundle.auditBlockHash}; events read from block ${bundle.fromBlock}.`);
  y -= 4;
  text('Bundle SHA-256 (the JSON bundle this report was made from):', { size: 9, f: bold });
  y -= 12;
  text(bundle.sha256, { size: 8.5, f: mono });
  y -= 18;

  const t = bundle.totals;
  text('Totals', { size: 12, f: bold });
  y -= 15;
  para(
    `Enrolled ${t.enrolled}, revoked ${t.revoked}, expired ${t.expired}, active ${t.active} (consent token: ${t.activeOnChain}). ` +
      `Purchases ${t.purchases}: paid ${amount(t.paid)}, confirmed ${amount(t.confirmed)}, refunded ${amount(t.refunded)}, escrowed ${amount(t.escrowed)}; ` +
      `claimed ${amount(t.claimed)}, claimable ${amount(t.claimable)}.`,
  );
  for (const r of opts.reconciliation ?? []) {
    text(`${r.ok ? 'OK' : 'MISMATCH'}`, { size: 9, f: bold, color: r.ok ? rgb(0, 0.4, 0) : rgb(0.7, 0, 0) });
    text(`${r.name}: ${r.text}`, { size: 9, x: MARGIN + 60 });
    y -= 12;
  }
  y -= 10;

  const header = () => {
    let x = MARGIN;
    for (const c of COLUMNS) {
      page.drawText(c.title, { x, y, size: TABLE_SIZE, font: bold });
      x += c.width;
    }
    y -= 3;
    page.drawLine({ start: { x: MARGIN, y }, end: { x: MARGIN + width, y }, thickness: 0.5 });
    y -= ROW - 2;
  };
  text(`Events (${bundle.events.length})`, { size: 12, f: bold });
  y -= 16;
  header();
  for (const e of bundle.events) {
    if (y < MARGIN + 20) {
      page = doc.addPage([PAGE.width, PAGE.height]);
      y = PAGE.height - MARGIN;
      text(`${title}, events continued`, { size: 9, f: bold });
      y -= 16;
      header();
    }
    const cells = [
      String(e.seq),
      iso(e.timestamp),
      e.kind,
      subject(e),
      'amount' in e ? amount(e.amount) : '',
      e.blockNumber === null ? 'by time, no transaction' : `${e.blockNumber}, ${short(e.transactionHash)}`,
    ];
    let x = MARGIN;
    cells.forEach((cell, i) => {
      page.drawText(fit(font, TABLE_SIZE, cell, COLUMNS[i]!.width - 3), { x, y, size: TABLE_SIZE, font });
      x += COLUMNS[i]!.width;
    });
    y -= ROW;
  }

  // Every page names the bundle it belongs to, and its number.
  const pages = doc.getPages();
  pages.forEach((p, i) => {
    p.drawText(`Bundle sha256 ${bundle.sha256}   page ${i + 1} of ${pages.length}`, { x: MARGIN, y: MARGIN / 2, size: 6.5, font: mono, color: rgb(0.25, 0.25, 0.25) });
  });
  return doc.save();
}
