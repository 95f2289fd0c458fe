// The researcher's market commands as a user runs them (the real `consentry` in a child process),
// against the market fixture: anvil with the deployment, three release gateways (k = 2), the relayer,
// and three participants enrolled with real proofs. studies → buy (quote only) → buy --yes --faucet
// → release again (same files) → a buy with two gateways down fails with the purchase id and the
// hint → release after they come back → refund of a confirmed purchase refused in words.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConsentry } from './testing/run-cli.ts';
import { testTokenAbi } from '@consentry/sdk/abi/generated';
import { parseFhirInput } from '@consentry/sdk/records/fhir';
import { readPurchase } from '@consentry/sdk/research/market';
import { putStudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { MARKET_CRITERIA, startMarketFixture, type MarketFixture } from '../research/testing/market-fixture.ts';

const TITLE = 'Blood pressure in adults over 18';

let f: MarketFixture;
let study: bigint;
let env: Record<string, string>;
const enrolled: Hex[] = [];
const out = mkdtempSync(join(tmpdir(), 'consentry-cli-market-'));

const consentry = (...args: string[]) => runConsentry(env, args);

const files = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
const balance = () => f.client.readContract({ address: f.contracts.TestToken!, abi: testTokenAbi, functionName: 'balanceOf', args: [f.researcher.address] });

beforeAll(async () => {
  f = await startMarketFixture();
  const { metadataHash } = await putStudyMetadata(f.access.blobs, { version: 1, title: TITLE, summary: 'A synthetic study for the CLI test.', criteria: MARKET_CRITERIA });
  study = await f.approvedStudy({ minCohort: 3, metadataHash });
  for (const i of [0, 1, 2]) enrolled.push((await f.enroll(f.participant('cli-market', i, study), study)).extractHash.toLowerCase() as Hex);
  env = {
    RPC_URL: f.access.anvil.rpcUrl,
    CHAIN_ID: '31337',
    DEPLOYMENTS_DIR: f.access.dir,
    // The fixture's blob store is DATA_DIR/blobs, where BLOB_STORE=fs looks by default.
    DATA_DIR: f.access.dir,
    BLOB_STORE: 'fs',
    DATABASE_URL: '',
    CONSENTRY_PRIVATE_KEY: '',
    GATEWAY_URLS: f.access.refs.map((r) => r.url).join(','),
  };
}, 180_000);

afterAll(async () => {
  await f?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('consentry studies, buy, release, refund', () => {
  it('lists the study with its title, price, 3 active participants and k', async () => {
    const json = await consentry('studies', '--json');
    expect(json.status, json.stderr).toBe(0);
    const listed = (JSON.parse(json.stdout) as Array<Record<string, unknown>>).find((s) => s.id === study.toString());
    expect(listed).toMatchObject({ status: 'Approved', title: TITLE, pricePerParticipant: '5000000', token: { symbol: 'tUSD', decimals: 6 }, active: 3, k: 3 });
    const text = await consentry('studies');
    expect(text.stdout).toContain(`#${study}  Approved   5 tUSD per participant  3 active (k = 3)  ${TITLE}`);
  });

  it('quotes without spending; buys, releases and writes the 3 extracts; fetches them again the same', async () => {
    const before = await balance();
    const quote = await consentry('buy', study.toString(), '--out', out, '--faucet', '--dev-account', '2');
    expect(quote.status, quote.stderr).toBe(0);
    expect(quote.stdout).toContain('5 tUSD × 3 active participants = 15 tUSD');
    expect(quote.stdout).toContain('run again with --yes to buy');
    expect(await balance()).toBe(before);
    expect(readdirSync(out)).toEqual([]);

    const usage = await consentry('buy', study.toString(), '--yes', '--dev-account', '2');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--out <dir>');

    const buy = await consentry('buy', study.toString(), '--out', out, '--yes', '--faucet', '--dev-account', '2');
    expect(buy.status, buy.stderr).toBe(0);
    const purchaseId = buy.stdout.match(/purchase #(\d+): paid 15 tUSD for 3 participants/)?.[1];
    expect(purchaseId).toBeDefined();
    expect(buy.stdout).toMatch(/[23] committee members signed[\s\S]*confirmed on chain[\s\S]*committee members released/);
    expect(buy.stdout).toMatch(/wrote 3 extracts with \d+ resources/);
    expect((await readPurchase(f.client, f.contracts, BigInt(purchaseId!)))!.status).toBe('Confirmed');

    const dir = join(out, `purchase-${purchaseId}`);
    const written = files(dir);
    expect(Object.keys(written)).toEqual(['dataset.ndjson', 'extract-1.json', 'extract-2.json', 'extract-3.json', 'manifest.json']);
    const manifest = JSON.parse(written['manifest.json']!);
    expect(manifest).toMatchObject({ studyId: study.toString(), purchaseId, buyer: f.researcher.address, amount: '15000000', token: { symbol: 'tUSD' } });
    expect(manifest.confirmationTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(manifest.extracts.map((e: { extractHash: string }) => e.extractHash)).toEqual([...enrolled].sort());

    const lines = written['dataset.ndjson']!.trimEnd().split('\n');
    const resources = lines.map((l) => JSON.parse(l) as { resourceType: string });
    expect(resources.length).toBe(manifest.extracts.reduce((n: number, e: { resources: number }) => n + e.resources, 0));
    expect(resources.filter((r) => r.resourceType === 'Patient')).toHaveLength(3);
    expect(parseFhirInput(written['dataset.ndjson']!, 'dataset.ndjson').errors).toEqual([]);
    for (const n of [1, 2, 3]) {
      const bundle = JSON.parse(written[`extract-${n}.json`]!);
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
      expect(bundle.entry.filter((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient')).toHaveLength(1);
    }

    // The same wallet fetches the same purchase again: the same files, byte for byte.
    rmSync(dir, { recursive: true });
    const again = await consentry('release', purchaseId!, '--out', out, '--dev-account', '2');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('confirmed on chain');
    expect(files(dir)).toEqual(written);
  });

  it('a buy with two gateways down keeps the purchase: its id and the hint; release gets it once they are back; a confirmed purchase is not refunded', async () => {
    await f.access.stopGateway(1);
    await f.access.stopGateway(2);
    let failed;
    try {
      failed = await consentry('buy', study.toString(), '--out', out, '--yes', '--faucet', '--dev-account', '2');
    } finally {
      for (const i of [1, 2]) await f.access.openGateway(i, Number(new URL(f.access.refs[i]!.url).port));
    }
    expect(failed.status).toBe(1);
    const purchaseId = failed.stdout.match(/purchase #(\d+): paid/)?.[1];
    expect(purchaseId).toBeDefined();
    expect(failed.stderr).toContain('Only 1 of the gateways answered');
    expect(failed.stderr).toContain(`run \`consentry release ${purchaseId} --out ${out}\` to try again`);
    expect(failed.stderr).toContain(`\`consentry refund ${purchaseId}\``);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect((await readPurchase(f.client, f.contracts, BigInt(purchaseId!)))!.status).toBe('Pending');

    const release = await consentry('release', purchaseId!, '--out', out, '--dev-account', '2');
    expect(release.status, release.stderr).toBe(0);
    expect(release.stdout).toContain('confirmed on chain');
    const manifest = JSON.parse(readFileSync(join(out, `purchase-${purchaseId}`, 'manifest.json'), 'utf8'));
    expect(manifest.extracts.map((e: { extractHash: string }) => e.extractHash)).toEqual([...enrolled].sort());

    const refund = await consentry('refund', purchaseId!, '--dev-account', '2');
    expect(refund.status).toBe(1);
    expect(refund.stderr).toContain(`Purchase #${purchaseId} is not pending`);
    expect(refund.stderr).not.toMatch(/\n\s+at /);
  });
});
