/**
 * The IRB reviewer's journey in Chromium against the whole running stack (anvil, contracts, the
 * credential issuer, the relayer, the committee's gateways, web):
 *   a researcher (development account 3, through the sdk) registers a study with its protocol and
 *   consent text; it waits in the review queue of /irb, where an account that is no review board is
 *   told in words it cannot decide; the accredited IRB (development account 4, in its own browser
 *   context) reads the protocol, consent text, criteria and terms and approves it with a written
 *   rationale: the chain says Approved, and the rationale hash on chain is the SHA-256 of the text,
 *   which the server serves back under it;
 *   three synthetic participants enrol (real proofs, relayed), the researcher buys and the committee
 *   releases, one participant claims her share, another revokes (relayed);
 *   the IRB's audit of the study shows the trail and totals that reconcile (active 2 = 3 − 1 − 0;
 *   paid = claimed + claimable + refunded); the CSV, the PDF report (its subject names the bundle's
 *   sha256) and the JSON bundle download; `consentry audit verify` passes on the bundle and fails
 *   when one line of it is altered; axe-core finds no serious or critical violation at desktop and
 *   phone widths (and nothing scrolls sideways on the phone); the IRB then suspends the study with a
 *   second rationale and the audit ends with the suspension.
 * Needs the proving files (`npm run circuits:setup`) and the built web app.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { PDFDocument } from 'pdf-lib';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { encodeFunctionData, erc20Abi, type PublicClient } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentTokenAbi } from '@consentry/sdk/abi/generated';
import { accreditOrganization, registerOrganization } from '@consentry/sdk/access/actions';
import { probeGateways } from '@consentry/sdk/access/release';
import { fundOnLocalChain } from '@consentry/sdk/access/simulator';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { studyAuditTrail } from '@consentry/sdk/research/audit';
import { relay, signForwardRequest } from '@consentry/sdk/research/forwarder';
import { claimRelayed, faucet, purchase } from '@consentry/sdk/research/market';
import { requestPurchaseRelease } from '@consentry/sdk/research/purchase-release';
import { putStudyDocument } from '@consentry/sdk/research/study-documents';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { nodeArtifacts } from '@consentry/sdk/zk/artifacts.node';
import { createStudy, readStudy, type ZkContracts } from '@consentry/sdk/zk/chain';
import { identitySecretFromSeed } from '@consentry/sdk/zk/identity';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { studyAccount } from '@consentry/sdk/zk/study-account';
import { putStudyMetadata, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { DEMO_STUDY, demoStudyTerms } from '../scripts/demo.ts';
import { eligibleSyntheticHistories, seedDemoParticipants } from '../scripts/demo-participants.ts';
import { demoConsentText, demoProtocolText } from '../scripts/demo-study-texts.ts';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, DESKTOP, gotoHydrated, journeySteps, launchChromium, openPage, PHONE, pinBuildAssets, seriousA11yViolations } from './support/browser.ts';
import { expectAuditVerifies } from './support/audit.ts';
import { E2E_CHAIN_ID, startE2eStack } from './support/stack.ts';

const RESEARCHER = 3;
const IRB = 4;
const NOT_IRB = 5;
const IRB_NAME = 'Harbour Research Ethics Board (synthetic)';
const STUDY: StudyMetadata = { ...DEMO_STUDY, title: 'Glycaemic control in type 2 diabetes (IRB e2e, synthetic)' };
const RATIONALE = 'Approved. Synthetic data only; the consent text names the data, the recipients, the purpose, the expiry and the right to revoke — minimal risk.';

let stack: Stack;
let browser: Browser;
let workDir: string;
let studyId: bigint;
let client: PublicClient;
let zk: ZkContracts;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const files = mkdtempSync(join(tmpdir(), 'consentry-e2e-irb-'));
const assets = join(files, 'assets'); // pinBuildAssets(files) fills it
const contexts: BrowserContext[] = [];
/** The IRB at phone width, loaded first: pages loaded late would meet a web build other work may have replaced. */
let phone: Page;

beforeAll(async () => {
  nodeArtifacts(); // fails now, in words, if `npm run circuits:setup` has not been run
  ({ stack, workDir } = await startE2eStack());
  // The client assets of the build the web server just loaded, kept aside: other work in this
  // checkout may rebuild web/build meanwhile, and pages loaded later must still find theirs.
  pinBuildAssets(files);
  const html = await (await fetch(`${stack.webUrl}/irb`)).text();
  const missing = [...html.matchAll(/\/assets\/([\w.-]+\.(?:js|css))/g)].map((m) => m[1]!).filter((f) => !existsSync(join(assets, f)));
  if (missing.length > 0) throw new Error(`web/build was rebuilt while the stack started (the server's page names ${missing[0]}, not in the build on disk): run again`);
  const c = stack.deployment.contracts;
  zk = { IssuerRegistry: c.IssuerRegistry!.address, StudyRegistry: c.StudyRegistry!.address, EligibilityVerifier: c.EligibilityVerifier!.address, ConsentToken: c.ConsentToken!.address };
  client = publicClientFor(stack.rpcUrl, E2E_CHAIN_ID) as PublicClient;
  browser = await launchChromium();
  // The IRB: registered as a review board and accredited by the local accreditor (account 0).
  const access = { AccessGrants: c.AccessGrants!.address, OrganizationRegistry: c.OrganizationRegistry!.address };
  const wallet = (i: number) => walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[i]!.privateKey);
  await registerOrganization({ wallet: wallet(IRB), client, contracts: access }, { kind: 'irb', name: IRB_NAME });
  const now = Number((await client.getBlock()).timestamp);
  await accreditOrganization({ wallet: wallet(0), client, contracts: access }, { organization: ANVIL_ACCOUNTS[IRB]!.address, until: now + 365 * 86_400 });
  // The researcher's study, with its description, protocol and consent text stored under their hashes.
  const blobs = await blobStoreFromEnv({ ...stack.env, DATA_DIR: stack.config.DATA_DIR });
  const terms = demoStudyTerms(c.TestToken!.address);
  const { metadataHash } = await putStudyMetadata(blobs, STUDY);
  const { hash: protocolHash } = await putStudyDocument(blobs, demoProtocolText(STUDY, terms, IRB_NAME));
  const { hash: consentHash } = await putStudyDocument(blobs, demoConsentText(STUDY, terms, IRB_NAME));
  await fundOnLocalChain(client, ANVIL_ACCOUNTS[RESEARCHER]!.address);
  ({ studyId } = await createStudy(
    { wallet: wallet(RESEARCHER), client, contracts: zk },
    { metadataHash, criteriaHash: compileCriteria(STUDY.criteria).criteriaHash, protocolHash, consentHash, ...terms },
  ));
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
  rmSync(files, { recursive: true, force: true });
});

const open = (name: string, options: BrowserContextOptions = DESKTOP) => openPage(browser, contexts, name, { options, assets, webUrl: stack.webUrl });
const step = journeySteps('irb', shotsDir);
const axeViolations = seriousA11yViolations;

async function openAudit(page: Page): Promise<void> {
  await page.getByLabel('Study to audit').selectOption(studyId.toString());
  await page.getByRole('button', { name: 'Audit the consent trail' }).click();
  await page.locator(`[data-testid="audit"][data-study-id="${studyId}"]`).waitFor({ timeout: 60_000 });
}


describe('the IRB in the browser', () => {
  it('an account that is no review board sees the queue and is told in words it cannot decide', async () => {
    phone = await open('irb-phone', PHONE);
    await step(phone, 'phone opens', async () => {
      await gotoHydrated(phone, `${stack.webUrl}/irb`);
      await connectDevAccount(phone, IRB);
    });
    const page = await open('not-irb');
    await step(page, 'not an irb', async () => {
      await gotoHydrated(page, `${stack.webUrl}/irb`);
      await connectDevAccount(page, NOT_IRB);
      await expect.poll(() => page.getByTestId('irb-standing').textContent(), { timeout: 15_000 }).toMatch(/not a registered organisation/);
      const card = page.locator(`[data-testid="study-review"][data-study-id="${studyId}"]`);
      await expect.poll(() => card.getByTestId('cannot-decide').textContent(), { timeout: 15_000 }).toMatch(/^You cannot decide on this study from this account/);
      expect(await card.getByRole('button', { name: /Approve/ }).count()).toBe(0);
    });
  });

  it('approves with a rationale; after enrolments, a purchase, a claim and a revocation the audit reconciles and its bundle verifies; then suspends', async () => {
    const page = await open('irb');
    const card = page.locator(`[data-testid="study-review"][data-study-id="${studyId}"]`);

    await step(page, 'the queue', async () => {
      await gotoHydrated(page, `${stack.webUrl}/irb`);
      await connectDevAccount(page, IRB);
      await expect.poll(() => page.getByTestId('irb-standing').getAttribute('data-can-decide'), { timeout: 15_000 }).toBe('true');
      expect(await card.getAttribute('data-status')).toBe('Pending');
      expect(await card.getByTestId('study-criteria').textContent()).toBe('Aged 18 to 90HbA1c at least 6.5 %Diagnosed with E11 (any code starting E11)Credential issued in the last 365 days');
      await expect.poll(() => card.getByTestId('terms-price').textContent(), { timeout: 15_000 }).toBe('5 tUSD');
      expect(await card.getByTestId('terms-k').textContent()).toBe('3 participants');
      expect(await card.getByTestId('terms-max').textContent()).toBe('1,000');
      expect(await card.getByTestId('terms-duration').textContent()).toBe('365 days');
      expect(await card.getByTestId('terms-categories').textContent()).toMatch(/labs/);
      expect(await card.getByTestId('consent-text').innerText()).toMatch(/revoke/i);
      expect(await card.getByTestId('protocol-text').innerText()).toContain(IRB_NAME);
      expect(await card.getByTestId('document-problem').count()).toBe(0);
    });

    await step(page, 'approve with a rationale', async () => {
      // Without a rationale nothing is sent.
      await card.getByRole('button', { name: `Approve study #${studyId}` }).click();
      expect(await card.getByTestId('decision-status').getAttribute('data-phase')).toBe('failed');
      expect(await card.getByTestId('decision-status').textContent()).toMatch(/write the rationale/);
      await card.getByLabel('Rationale for your decision').fill(RATIONALE);
      await card.getByRole('button', { name: `Approve study #${studyId}` }).click();
      await expect.poll(() => card.getByTestId('decision-status').getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('busy');
      expect(await card.getByTestId('decision-status').textContent()).toMatch(new RegExp(`^Confirmed: Approved study #${studyId} in block \\d+`));
    });

    const expectedHash = `0x${createHash('sha256').update(RATIONALE, 'utf8').digest('hex')}`;
    await step(page, 'the chain', async () => {
      expect((await readStudy(client, zk, studyId))?.status).toBe('Approved');
      const c = stack.deployment.contracts;
      const trail = await studyAuditTrail(client, { StudyRegistry: c.StudyRegistry!.address, ConsentToken: c.ConsentToken!.address, StudyMarket: c.StudyMarket!.address }, studyId, { fromBlock: BigInt(stack.deployment.startBlock) });
      const approved = trail.events.find((e) => e.kind === 'approved');
      expect(approved).toMatchObject({ irb: ANVIL_ACCOUNTS[IRB]!.address, rationaleHash: expectedHash });
      expect(await card.getByTestId('decision-status').textContent()).toContain(expectedHash);
      // The text is stored under its hash, and served back checked against it.
      const res = await fetch(`${stack.webUrl}/api/documents/${expectedHash}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { text: string }).text).toBe(RATIONALE);
      // The page moved it out of the queue, into the approved studies (where it may be suspended).
      await expect.poll(() => card.getAttribute('data-status'), { timeout: 15_000 }).toBe('Approved');
      expect(await card.getByRole('button', { name: `Suspend study #${studyId}` }).count()).toBe(1);
    });

    await step(page, 'participants, a purchase, a claim and a revocation', async () => {
      expect(await seedDemoParticipants(stack, () => {}, studyId, STUDY.criteria)).toBe(3);
      const c = stack.deployment.contracts;
      const researcher = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[RESEARCHER]!.privateKey);
      const market = {
        client,
        wallet: researcher,
        contracts: { StudyMarket: c.StudyMarket!.address, StudyRegistry: c.StudyRegistry!.address, TestToken: c.TestToken!.address, ConsentToken: c.ConsentToken!.address, Forwarder: c.Forwarder!.address },
      };
      await faucet(market, researcher.account.address, 100_000_000n);
      const bought = await purchase(market, studyId);
      expect(bought.cohort).toBe(3);
      const { refs: gateways } = await probeGateways(stack.env.GATEWAY_URLS!.split(','));
      await requestPurchaseRelease({ ctx: market, gateways, purchaseId: bought.purchaseId, buyerKey: x25519.getPublicKey(x25519.utils.randomPrivateKey()), threshold: 2 });
      // The participants' per-study addresses, from the same seeds the demo enrolled them with.
      const [first, second] = eligibleSyntheticHistories(STUDY.criteria, 3).map(({ seed }) => studyAccount(identitySecretFromSeed(new TextEncoder().encode(`consentry ${seed}`)), studyId));
      const payee = privateKeyToAccount(generatePrivateKey()).address;
      await claimRelayed(market, first!, stack.env.RELAYER_URL!, studyId, payee);
      expect(await client.readContract({ address: c.TestToken!.address, abi: erc20Abi, functionName: 'balanceOf', args: [payee] })).toBe(5_000_000n);
      const chainNow = Number((await client.getBlock()).timestamp);
      const revoke = await signForwardRequest(second!, { client, address: c.Forwarder!.address }, {
        to: c.ConsentToken!.address,
        data: encodeFunctionData({ abi: consentTokenAbi, functionName: 'revoke', args: [studyId] }),
        gas: 300_000n,
        deadline: chainNow + 600,
      });
      expect((await relay(stack.env.RELAYER_URL!, revoke)).status).toBe('success');
    });

    await step(page, 'the audit reconciles', async () => {
      await openAudit(page);
      const audit = page.getByTestId('audit');
      expect(await page.getByTestId('audit-problems').count()).toBe(0);
      expect(await audit.getAttribute('data-ok')).toBe('true');
      expect(await page.getByTestId('audit-verdict').textContent()).toMatch(/^OK: every total reconciles/);
      const rows = page.getByTestId('reconcile');
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ok')))).toEqual(['true', 'true', 'true']);
      expect(await rows.nth(0).textContent()).toContain('active 2 = enrolled 3 − revoked 1 − expired 0');
      expect(await rows.nth(2).textContent()).toContain('paid 15 tUSD = claimed 5 tUSD + claimable 10 tUSD + refunded 0 tUSD');
      const kinds = await page.getByTestId('audit-events').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')));
      expect(kinds).toEqual(['created', 'approved', 'enrolled', 'enrolled', 'enrolled', 'purchased', 'confirmed', 'claimed', 'revoked']);
      expect(await page.getByRole('img', { name: 'Enrolled and active participants over time' }).count()).toBe(1);
      expect(await page.locator('.recharts-line').count()).toBe(2);
    });

    const sha = (await page.getByTestId('audit-sha256').textContent())!;
    const bundleFile = join(files, 'bundle.json');
    await step(page, 'exports', async () => {
      const save = async (button: string, file: string) => {
        const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
        await d.saveAs(file);
        return readFileSync(file);
      };
      const csv = (await save('Download CSV', join(files, 'trail.csv'))).toString('utf8').split('\r\n');
      expect(csv[0]).toMatch(/^seq,kind,time,timestamp,blockNumber,transactionHash,logIndex,description/);
      expect(csv.filter((l) => l.length > 0)).toHaveLength(10); // the header and 9 events
      const bundle = JSON.parse((await save('Download JSON bundle', bundleFile)).toString('utf8')) as { sha256: string; studyId: string };
      expect(bundle).toMatchObject({ sha256: sha, studyId: studyId.toString() });
      const pdf = await PDFDocument.load(await save('Download PDF report', join(files, 'report.pdf')));
      expect(pdf.getPageCount()).toBeGreaterThanOrEqual(1);
      expect(pdf.getSubject()).toContain(sha);
      expect(await page.getByTestId('pdf-status').getAttribute('data-phase')).toBe('done');
    });

    await step(page, 'consentry audit verify', async () => {
      expectAuditVerifies(stack, E2E_CHAIN_ID, bundleFile, join(files, 'bundle-altered.json'));
    });

    await step(page, 'accessibility at desktop width', async () => {
      expect(await axeViolations(page)).toEqual([]);
    });

    await step(page, 'suspend with a rationale', async () => {
      const reason = 'Suspended: the review board asks for an amended protocol (synthetic).';
      await card.getByLabel('Rationale for your decision').fill(reason);
      await card.getByRole('button', { name: `Suspend study #${studyId}` }).click();
      await expect.poll(() => card.getByTestId('decision-status').getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('busy');
      expect(await card.getByTestId('decision-status').textContent()).toMatch(new RegExp(`^Confirmed: Suspended study #${studyId} in block \\d+`));
      expect((await readStudy(client, zk, studyId))?.status).toBe('Suspended');
      // The audit now ends with the suspension, under the hash of its rationale.
      await openAudit(page);
      await expect.poll(() => page.getByTestId('audit-events').locator('tbody tr').last().getAttribute('data-kind'), { timeout: 30_000 }).toBe('suspended');
      expect(await page.getByTestId('audit-events').locator('tbody tr').last().textContent()).toContain(ANVIL_ACCOUNTS[IRB]!.address);
      expect(await page.getByTestId('audit').getAttribute('data-ok')).toBe('true');
    });
  });

  it('at phone width the page and the audit have no serious or critical accessibility violation', async () => {
    const page = phone;
    await step(page, 'phone', async () => {
      await expect.poll(() => page.getByTestId('irb-standing').getAttribute('data-can-decide'), { timeout: 15_000 }).toBe('true');
      await openAudit(page);
      expect(await page.getByTestId('audit').getAttribute('data-ok')).toBe('true');
      // Nothing runs off the side of a phone: the page does not scroll sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      expect(await axeViolations(page)).toEqual([]);
    });
  });
});
