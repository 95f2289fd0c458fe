// `consentry audit` as an IRB runs it (the real command in a child process) against the market
// fixture: three participants enrolled with real proofs, a purchase confirmed by the committee, a
// claim. export → trail.csv and bundle.json; verify on chain and --offline pass; an export at an
// earlier --block is a smaller snapshot that verifies too; one altered line fails verify with exit
// 1 and the event named, offline (the digest) and on chain once the digest is recomputed; bad usage
// is explained with exit 2; never a stack.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@consentry/sdk/config';
import { auditDigest, type AuditBundle } from '@consentry/sdk/research/audit';
import { claimRelayed, faucet, purchase } from '@consentry/sdk/research/market';
import { requestPurchaseRelease } from '@consentry/sdk/research/purchase-release';
import { x25519 } from '@noble/curves/ed25519.js';
import { startMarketFixture, type MarketFixture } from '../research/testing/market-fixture.ts';

const CLI = join(REPO_ROOT, 'scripts', 'consentry.mjs');
const PRICE = 5_000_000n;

let f: MarketFixture;
let study: bigint;
let env: Record<string, string>;
let beforePurchase: bigint;
const out = mkdtempSync(join(tmpdir(), 'consentry-cli-audit-'));

const consentry = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
const noStack = (r: { stderr: string }) => expect(r.stderr).not.toMatch(/\n\s+at /);

beforeAll(async () => {
  f = await startMarketFixture();
  study = await f.approvedStudy({ pricePerParticipant: PRICE, minCohort: 3 });
  const patients = [0, 1, 2].map((i) => f.participant('cli-audit-trail', i, study));
  for (const p of patients) await f.enroll(p, study);
  beforePurchase = await f.client.getBlockNumber();
  const ctx = f.ctx(f.researcher);
  await faucet(ctx, f.researcher.address, 100_000_000n);
  const bought = await purchase(ctx, study);
  await requestPurchaseRelease({ ctx, gateways: f.access.refs, purchaseId: bought.purchaseId, buyerKey: x25519.getPublicKey(keccak256(toHex('cli audit x25519'), 'bytes')), threshold: 2 });
  await claimRelayed(ctx, patients[0]!.study, f.relayer.url, study, privateKeyToAccount(keccak256(toHex('cli audit payee'))).address);
  env = { RPC_URL: f.access.anvil.rpcUrl, CHAIN_ID: '31337', DEPLOYMENTS_DIR: f.access.dir, DATA_DIR: f.access.dir, DATABASE_URL: '' };
}, 120_000);

afterAll(async () => {
  await f?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('consentry audit', () => {
  it('exports the trail as CSV and a bundle that verifies on chain and offline', () => {
    const dir = join(out, 'now');
    const exported = consentry('audit', 'export', String(study), '--out', dir);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(new RegExp(`audit: study ${study} on chain 31337 at block \\d+ \\(0x[0-9a-f]{64}, .*\\): 8 events`));
    expect(exported.stdout).toContain('consents: 3 enrolled, 0 revoked, 0 expired, 3 active (3 active on chain)');
    expect(exported.stdout).toContain(`paid ${3n * PRICE} = claimed ${PRICE} + claimable ${2n * PRICE} + refunded 0 + escrowed 0; 1 purchase(s)`);
    const csv = readFileSync(join(dir, 'trail.csv'), 'utf8').split('\r\n');
    expect(csv.slice(1, -1).map((l) => l.split(',')[1])).toEqual(['created', 'approved', 'enrolled', 'enrolled', 'enrolled', 'purchased', 'confirmed', 'claimed']);

    const online = consentry('audit', 'verify', join(dir, 'bundle.json'));
    expect(online.status, online.stderr).toBe(0);
    expect(online.stdout).toMatch(/^verify: OK · study \d+ .* 8 events · checked offline and against the chain at block \d+/);
    const offline = consentry('audit', 'verify', join(dir, 'bundle.json'), '--offline');
    expect(offline.status, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('checked offline only (--offline): not compared with the chain');
  });

  it('exports an earlier snapshot with --block', () => {
    const dir = join(out, 'earlier');
    const exported = consentry('audit', 'export', String(study), '--out', dir, '--block', String(beforePurchase));
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`at block ${beforePurchase} `);
    expect(exported.stdout).toContain(': 5 events');
    const bundle = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as AuditBundle;
    expect(bundle.totals).toMatchObject({ enrolled: 3, purchases: 0, paid: '0' });
    expect(consentry('audit', 'verify', join(dir, 'bundle.json')).status).toBe(0);
  });

  it('fails with exit 1 on one altered line, naming the event, offline and on chain', () => {
    const text = readFileSync(join(out, 'now', 'bundle.json'), 'utf8');
    const bundle = JSON.parse(text) as AuditBundle;
    const claim = bundle.events.find((e) => e.kind === 'claimed')!;
    const lines = text.split('\n');
    const i = lines.findIndex((l) => new RegExp(`^"amount": "${PRICE}",?$`).test(l.trim()));
    expect(i).toBeGreaterThan(0);
    lines[i] = lines[i]!.replace(String(PRICE), String(PRICE + 1n));
    const forged = join(out, 'forged.json');
    writeFileSync(forged, lines.join('\n'));

    const offline = consentry('audit', 'verify', forged, '--offline');
    expect(offline.status).toBe(1);
    expect(offline.stderr).toContain("FAIL The bundle's SHA-256 does not match its content");
    expect(offline.stderr).toMatch(/verify: \d+ problem\(s\); this audit bundle cannot be trusted/);
    noStack(offline);

    // The digest recomputed, so only the reconciliation and the chain can tell.
    const redigested = JSON.parse(lines.join('\n')) as AuditBundle;
    redigested.sha256 = auditDigest(redigested);
    writeFileSync(forged, JSON.stringify(redigested, null, 2));
    const online = consentry('audit', 'verify', forged);
    expect(online.status).toBe(1);
    expect(online.stderr).not.toContain('SHA-256');
    expect(online.stderr).toContain(`FAIL event #${claim.seq} (claimed by ${claim.holder}; block ${claim.blockNumber}`);
    expect(online.stderr).toContain(`amount is "${PRICE + 1n}" in the bundle, the chain says "${PRICE}"`);
    noStack(online);
  });

  it('explains bad usage and unreadable bundles in words', () => {
    const none = consentry('audit');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('Say what to do: export <studyId>');
    const noOut = consentry('audit', 'export', String(study));
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toContain('--out <dir>');
    const unknown = consentry('audit', 'export', '999', '--out', join(out, 'x'));
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('There is no study #999');
    const junk = join(out, 'junk.json');
    writeFileSync(junk, '{ not json');
    const unreadable = consentry('audit', 'verify', junk, '--offline');
    expect(unreadable.status).toBe(1);
    expect(unreadable.stderr).toContain(`Cannot read ${junk} as JSON`);
    for (const r of [none, noOut, unknown, unreadable]) noStack(r);
  });
});
