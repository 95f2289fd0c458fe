/**
 * The research marketplace end to end in Chromium, every person in their own browser, against the
 * whole running stack (anvil, contracts, the credential issuer, the relayer, the committee's
 * gateways, web). Issue 8's "done when" journey:
 *   a researcher (development account 3) creates a study on /research with the criteria builder
 *   (aged 18–90, HbA1c at least 6.5 %: demo patients 0, 1 and 2 all meet it), k = 3, 5 tUSD;
 *   the accredited IRB (development account 4) approves it on /irb with a written rationale;
 *   three participants (development accounts 7, 8, 9, the demo patients with synthetic records) each
 *   open /eligibility, get a credential, check, accept the consent text and prove and enrol in their
 *   browser (real proofs in the worker, relayed);
 *   the researcher gets test tUSD, buys the cohort (3 × 5 tUSD), has the committee release it,
 *   decrypts it in the browser and downloads FHIR NDJSON (3 Patients);
 *   two participants claim their 5 tUSD to addresses they choose, the third revokes;
 *   the IRB audits the study: active 2 = 3 − 1 − 0 and paid 15 = claimed 10 + claimable 5 +
 *   refunded 0; the JSON bundle downloads, `consentry audit verify` passes on it and fails once one
 *   line is altered.
 * Browser contexts: five, one per person (researcher, IRB, and one per participant). The issue
 * counts four (the participants as one role), but three participants sharing one context would
 * share one wallet connection and one browser's sealed credential store; each has her own here.
 * With CONSENTRY_SCREENSHOTS=<folder> (e.g. docs/screenshots) it also saves each role's main page
 * at 1280×800 into that folder, with two more contexts for it (a patient's /records, and a clinic,
 * development account 5, on /clinician); without it, nothing is written there, so CI does not
 * rewrite the committed images.
 * Needs the proving files (`npm run circuits:setup`) and the built web app.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { erc20Abi, type Address, type PublicClient } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accreditOrganization, registerOrganization } from '@consentry/sdk/access/actions';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { nodeArtifacts } from '@consentry/sdk/zk/artifacts.node';
import { readStudy } from '@consentry/sdk/zk/chain';
import { seedDemoRecords } from '../scripts/demo.ts';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, gotoHydrated, journeySteps, launchChromium, openPage, pinBuildAssets } from './support/browser.ts';
import { expectAuditVerifies } from './support/audit.ts';
import { E2E_CHAIN_ID, startE2eStack } from './support/stack.ts';

const RESEARCHER = 3;
const IRB = 4;
/** Only for the clinician's screenshot. */
const CLINIC = 5;
/** Demo patients 0, 1, 2 (scripts/demo.ts): each has a synthetic history in her encrypted records. */
const PARTICIPANTS = [7, 8, 9] as const;
const IRB_NAME = 'Marketplace e2e IRB (synthetic)';
const TITLE = 'HbA1c in adults (marketplace e2e, synthetic)';
const SUMMARY = 'To describe HbA1c in adults, on synthetic data only.';
const PROTOCOL = 'STUDY PROTOCOL\n\n1. Design\nRetrospective, observational, synthetic data only.\n';
const RATIONALE = 'Approved: synthetic data only; the consent text names the data, the recipients, the purpose, the expiry and the right to revoke. Minimal risk.';
/** Where to save the documentation's screenshots; unset in CI, so the committed images stay as they are. */
const SCREENSHOTS = process.env.CONSENTRY_SCREENSHOTS ? resolve(REPO_ROOT, process.env.CONSENTRY_SCREENSHOTS) : null;

let stack: Stack;
let browser: Browser;
let workDir: string;
let client: PublicClient;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const files = mkdtempSync(join(tmpdir(), 'consentry-e2e-marketplace-'));
const assets = join(files, 'assets'); // pinBuildAssets(files) fills it
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  nodeArtifacts(); // fails now, in words, if `npm run circuits:setup` has not been run
  ({ stack, workDir } = await startE2eStack());
  // The client assets of the build the web server just loaded, kept aside: other work in this
  // checkout may rebuild web/build meanwhile, and pages loaded later must still find theirs.
  pinBuildAssets(files);
  client = publicClientFor(stack.rpcUrl, E2E_CHAIN_ID) as PublicClient;
  const c = stack.deployment.contracts;
  const access = { AccessGrants: c.AccessGrants!.address, OrganizationRegistry: c.OrganizationRegistry!.address };
  const wallet = (i: number) => walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[i]!.privateKey);
  [browser] = await Promise.all([
    launchChromium(),
    seedDemoRecords(stack, () => {}, [0, 1, 2]),
    (async () => {
      // The IRB: registered as a review board and accredited by the local accreditor (account 0).
      await registerOrganization({ wallet: wallet(IRB), client, contracts: access }, { kind: 'irb', name: IRB_NAME });
      const now = Number((await client.getBlock()).timestamp);
      await accreditOrganization({ wallet: wallet(0), client, contracts: access }, { organization: ANVIL_ACCOUNTS[IRB]!.address, until: now + 365 * 86_400 });
    })(),
  ]);
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  // A service of the stack may still be finishing a write as it stops: retry the removal a few times.
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  rmSync(files, { recursive: true, force: true });
});

/** One person's own browser context (own storage, own wallet connection), at desktop width. */
const open = (name: string) => openPage(browser, contexts, name, { assets, webUrl: stack.webUrl });
const step = journeySteps('marketplace', shotsDir);

/** With CONSENTRY_SCREENSHOTS set: the viewport (1280×800, not the full page) with `at` scrolled into view. */
async function screenshot(page: Page, name: string, at?: Locator): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  if (at) await at.evaluate((e) => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 24));
  else await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300); // charts animate in
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

async function download(page: Page, click: () => Promise<void>, name: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), click()]);
  const path = join(files, name);
  await file.saveAs(path);
  return path;
}


const tusd = (address: Address) => client.readContract({ address: stack.deployment.contracts.TestToken!.address, abi: erc20Abi, functionName: 'balanceOf', args: [address] });

/** A participant's /eligibility, opened (her key derived in her browser), with the study's card. */
async function openEligibility(page: Page, studyId: bigint): Promise<Locator> {
  await page.getByRole('button', { name: 'Open my eligibility' }).click();
  await page.getByTestId('credential-panel').waitFor({ timeout: 30_000 });
  const card = page.locator(`[data-testid="study"][data-study-id="${studyId}"]`);
  await card.waitFor({ timeout: 30_000 });
  return card;
}

async function reopenEligibility(page: Page, studyId: bigint): Promise<Locator> {
  await page.reload();
  await page.waitForSelector('html[data-hydrated="true"]');
  return openEligibility(page, studyId);
}

describe('the research marketplace, every person in their own browser', () => {
  it('a researcher creates a study, the IRB approves it, three participants enrol with proofs, the researcher buys and decrypts, two claim, one revokes, and the IRB’s audit reconciles and verifies', async () => {
    const started = Date.now();
    const researcher = await open('researcher');
    let studyId = 0n;

    await step(researcher, 'researcher creates the study', async () => {
      await gotoHydrated(researcher, `${stack.webUrl}/research`);
      await connectDevAccount(researcher, RESEARCHER);
      await researcher.getByRole('heading', { name: 'Create a study' }).waitFor();
      expect(await researcher.getByTestId('no-live-count').textContent()).toContain('There is no count of matching patients here, by design');
      await researcher.getByLabel('Title', { exact: true }).fill(TITLE);
      await researcher.getByLabel(/^Summary/).fill(SUMMARY);
      await researcher.getByLabel('From', { exact: true }).fill('18');
      await researcher.getByLabel('to', { exact: true }).fill('90');
      await researcher.getByLabel('HbA1c minimum (%)').fill('6.5');
      expect(await researcher.getByTestId('criteria-words').locator('li').allTextContents()).toEqual(['Aged 18 to 90', 'HbA1c at least 6.5 %']);
      await researcher.getByLabel(/^Price per participant/).fill('5');
      await researcher.getByLabel(/^k: /).fill('3');
      await researcher.getByLabel(/^Researcher responsible/).fill('Dr. M. Arket (synthetic)');
      await researcher.getByLabel('Reviewing IRB (name)').fill(IRB_NAME);
      await researcher.getByLabel(/^Protocol/).fill(PROTOCOL);
      await researcher.getByRole('button', { name: 'Submit for IRB review' }).click();
      const result = researcher.getByTestId('create-result');
      await expect.poll(() => result.getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('busy');
      const text = (await result.textContent()) ?? '';
      expect(await result.getAttribute('data-phase'), text).toBe('done');
      expect(text).toMatch(/^Confirmed: study #\d+ registered in block \d+\. It is pending IRB review\.$/);
      studyId = BigInt(/#(\d+)/.exec(text)![1]!);
    });
    const studyRow = researcher.locator(`[data-testid="study-row"][data-study-id="${studyId}"]`);
    const contracts = { StudyRegistry: stack.deployment.contracts.StudyRegistry!.address };
    expect(await readStudy(client, contracts, studyId)).toMatchObject({ status: 'Pending', minCohort: 3, pricePerParticipant: 5_000_000n });

    const irb = await open('irb');
    const review = irb.locator(`[data-testid="study-review"][data-study-id="${studyId}"]`);
    await step(irb, 'the IRB approves with a rationale', async () => {
      await gotoHydrated(irb, `${stack.webUrl}/irb`);
      await connectDevAccount(irb, IRB);
      await expect.poll(() => irb.getByTestId('irb-standing').getAttribute('data-can-decide'), { timeout: 15_000 }).toBe('true');
      await expect.poll(() => review.getAttribute('data-status'), { timeout: 15_000 }).toBe('Pending');
      expect(await review.getByTestId('study-criteria').textContent()).toContain('Aged 18 to 90');
      await expect.poll(() => review.getByTestId('terms-price').textContent(), { timeout: 15_000 }).toBe('5 tUSD');
      expect(await review.getByTestId('terms-k').textContent()).toBe('3 participants');
      expect(await review.getByTestId('consent-text').innerText()).toMatch(/revoke/i);
      await screenshot(irb, 'irb-review', irb.getByRole('heading', { name: /^Studies waiting for review/ }));
      await review.getByLabel('Rationale for your decision').fill(RATIONALE);
      await review.getByRole('button', { name: `Approve study #${studyId}` }).click();
      const status = review.getByTestId('decision-status');
      await expect.poll(() => status.getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('busy');
      expect(await status.textContent()).toMatch(new RegExp(`^Confirmed: Approved study #${studyId} in block \\d+`));
    });
    expect((await readStudy(client, contracts, studyId))?.status).toBe('Approved');

    // Three participants at once, each in her own browser: credential, check, consent, proof, enrolment.
    const participants = await Promise.all(PARTICIPANTS.map((i) => open(`participant-${i}`)));
    await Promise.all(
      participants.map((page, n) =>
        step(page, `participant ${PARTICIPANTS[n]} enrols`, async () => {
          await gotoHydrated(page, `${stack.webUrl}/eligibility`);
          await connectDevAccount(page, PARTICIPANTS[n]!);
          const card = await openEligibility(page, studyId);
          await page.getByRole('button', { name: 'Get a credential' }).click();
          await expect.poll(() => page.getByTestId('credential-panel').getAttribute('data-state'), { timeout: 30_000 }).toBe('held');
          await card.getByRole('button', { name: 'Check eligibility' }).click();
          await card.getByTestId('eligible').waitFor({ timeout: 15_000 });
          expect(await card.getByTestId('enrol-blocker').textContent()).toBe('Give your consent first');
          expect(await card.getByTestId('consent-text').innerText()).toContain(TITLE);
          await card.getByLabel(/I have read the consent text above and agree to take part in/).check();
          await card.getByRole('button', { name: 'Prove and enrol' }).click();
          const status = card.getByTestId('enrol-status');
          await expect.poll(() => status.getAttribute('data-phase'), { timeout: 180_000, interval: 250 }).toMatch(/^(confirmed|failed)$/);
          expect(await status.getAttribute('data-phase'), (await status.textContent()) ?? '').toBe('confirmed');
        }),
      ),
    );

    await step(researcher, 'the researcher buys, the committee releases, the dataset is decrypted and downloaded', async () => {
      await expect.poll(() => studyRow.getByTestId('study-active').textContent(), { timeout: 30_000 }).toBe('3');
      await expect.poll(() => studyRow.getByTestId('quote').textContent(), { timeout: 15_000 }).toContain('5 tUSD × 3 active participants = 15 tUSD');
      const buyResult = studyRow.getByTestId(`buy-result-${studyId}`);
      await studyRow.getByRole('button', { name: 'Get test tUSD' }).click();
      await expect.poll(() => buyResult.getAttribute('data-phase'), { timeout: 30_000 }).toBe('done');
      await expect.poll(() => studyRow.getByTestId('quote').textContent(), { timeout: 15_000 }).toContain('You hold 15 tUSD');
      await studyRow.getByRole('button', { name: 'Buy the cohort’s data' }).click();
      await expect.poll(() => buyResult.getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('busy');
      expect(await buyResult.textContent()).toMatch(/^Confirmed: purchase #\d+ paid, 15 tUSD for 3 participants/);
      const purchase = researcher.locator('[data-testid="purchase-row"]').first();
      const purchaseId = (await purchase.getAttribute('data-purchase-id', { timeout: 15_000 }))!;
      await purchase.getByRole('button', { name: 'Release and download' }).click();
      const released = purchase.getByTestId(`release-result-${purchaseId}`);
      await expect.poll(() => released.getAttribute('data-phase'), { timeout: 120_000, interval: 250 }).not.toBe('busy');
      const text = (await released.textContent()) ?? '';
      expect(await released.getAttribute('data-phase'), text).toBe('done');
      expect(text).toMatch(/^Released and decrypted in this browser: 3 extracts, \d+ resources\.$/);
      const ndjson = readFileSync(await download(researcher, () => researcher.getByRole('link', { name: 'FHIR NDJSON', exact: true }).click(), 'dataset.ndjson'), 'utf8');
      const resources = ndjson.trimEnd().split('\n').map((l) => JSON.parse(l) as { resourceType: string });
      expect(resources.filter((r) => r.resourceType === 'Patient')).toHaveLength(3);
      await expect.poll(() => purchase.getAttribute('data-status'), { timeout: 15_000 }).toBe('Confirmed');
      expect(await researcher.getByTestId('spend').textContent()).toContain('Spent (confirmed)15 tUSD');
      await screenshot(researcher, 'researcher', researcher.getByRole('heading', { name: 'Your purchases' }));
    });

    // Two participants claim their share to addresses they pick; the third revokes her consent.
    const payees = [0, 1].map(() => privateKeyToAccount(generatePrivateKey()).address);
    const reopened = await Promise.all(participants.map((page) => reopenEligibility(page, studyId)));
    await Promise.all(
      [0, 1].map((n) =>
        step(participants[n]!, `participant ${PARTICIPANTS[n]} claims`, async () => {
          const card = reopened[n]!;
          await expect.poll(() => card.getByTestId('claimable').getAttribute('data-amount'), { timeout: 30_000 }).toBe('5000000');
          await card.getByLabel('Pay to address').fill(payees[n]!);
          await card.getByRole('button', { name: 'Claim' }).click();
          await expect.poll(() => card.getByTestId('claim-status').getAttribute('data-phase'), { timeout: 60_000 }).toMatch(/^(confirmed|failed)$/);
          expect(await card.getByTestId('claim-status').getAttribute('data-phase'), (await card.getByTestId('claim-status').textContent()) ?? '').toBe('confirmed');
          expect(await tusd(payees[n]!)).toBe(5_000_000n);
          await expect.poll(() => card.getByTestId('claimable').getAttribute('data-amount'), { timeout: 30_000 }).toBe('0');
        }),
      ),
    );
    await step(participants[2]!, `participant ${PARTICIPANTS[2]} revokes`, async () => {
      const card = reopened[2]!;
      expect(await card.getByTestId('consent').getAttribute('data-state')).toBe('active');
      await card.getByRole('button', { name: 'Revoke consent' }).click();
      await expect.poll(() => card.getByTestId('revoke-status').getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('pending');
      expect(await card.getByTestId('revoke-status').textContent()).toMatch(/^Consent revoked/);
      await expect.poll(() => card.getByTestId('consent').getAttribute('data-state'), { timeout: 15_000 }).toBe('revoked');
    });

    const bundleFile = join(files, 'bundle.json');
    await step(irb, 'the IRB audits the study', async () => {
      await irb.getByLabel('Study to audit').selectOption(studyId.toString());
      await irb.getByRole('button', { name: 'Audit the consent trail' }).click();
      const audit = irb.locator(`[data-testid="audit"][data-study-id="${studyId}"]`);
      await audit.waitFor({ timeout: 60_000 });
      expect(await irb.getByTestId('audit-problems').count()).toBe(0);
      expect(await audit.getAttribute('data-ok')).toBe('true');
      const rows = irb.getByTestId('reconcile');
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ok')))).toEqual(['true', 'true', 'true']);
      expect(await rows.nth(0).textContent()).toContain('active 2 = enrolled 3 − revoked 1 − expired 0');
      expect(await rows.nth(2).textContent()).toContain('paid 15 tUSD = claimed 10 tUSD + claimable 5 tUSD + refunded 0 tUSD');
      const kinds = await irb.getByTestId('audit-events').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')));
      expect(kinds.filter((k) => k === 'enrolled')).toHaveLength(3);
      expect(kinds.filter((k) => k === 'claimed')).toHaveLength(2);
      expect(kinds.filter((k) => k === 'revoked')).toHaveLength(1);
      expect(kinds.slice(0, 2)).toEqual(['created', 'approved']);
      expect(kinds).toContain('purchased');
      expect(kinds).toContain('confirmed');
      const sha = await irb.getByTestId('audit-sha256').textContent();
      await download(irb, () => irb.getByRole('button', { name: 'Download JSON bundle' }).click(), 'bundle.json');
      expect(JSON.parse(readFileSync(bundleFile, 'utf8'))).toMatchObject({ sha256: sha, studyId: studyId.toString() });
      await screenshot(irb, 'irb-audit', audit);
    });

    await step(irb, 'consentry audit verify', async () => {
      expectAuditVerifies(stack, E2E_CHAIN_ID, bundleFile, join(files, 'bundle-altered.json'));
    });

    if (SCREENSHOTS) {
      // A participant who claimed, enrolled with her earnings; and a patient's own records.
      const card = await reopenEligibility(participants[0]!, studyId);
      await expect.poll(() => card.getByTestId('earnings-chart').getAttribute('data-claimed'), { timeout: 30_000 }).toBe('5000000');
      await screenshot(participants[0]!, 'participant-studies', card.getByTestId('enrolled-note'));
      const patient = await open('patient');
      await step(patient, 'patient records', async () => {
        await gotoHydrated(patient, `${stack.webUrl}/records`);
        await connectDevAccount(patient, PARTICIPANTS[1]);
        await patient.getByRole('button', { name: 'Open my records' }).click();
        await patient.getByTestId('record-row').first().waitFor({ timeout: 30_000 });
        await expect.poll(() => patient.getByTestId('records-summary').textContent(), { timeout: 30_000 }).not.toContain('decrypting');
        await screenshot(patient, 'patient-records', patient.getByRole('heading', { name: 'Your records' }));
      });
      // A clinic (development account 5, registered and accredited here) with an access request written out.
      const c = stack.deployment.contracts;
      const access = { AccessGrants: c.AccessGrants!.address, OrganizationRegistry: c.OrganizationRegistry!.address };
      await registerOrganization({ wallet: walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[CLINIC]!.privateKey), client, contracts: access }, { kind: 'provider', name: 'Riverside Clinic (synthetic)' });
      const now = Number((await client.getBlock()).timestamp);
      await accreditOrganization({ wallet: walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[0]!.privateKey), client, contracts: access }, { organization: ANVIL_ACCOUNTS[CLINIC]!.address, until: now + 365 * 86_400 });
      const clinic = await open('clinic');
      await step(clinic, 'clinician', async () => {
        await gotoHydrated(clinic, `${stack.webUrl}/clinician`);
        await connectDevAccount(clinic, CLINIC);
        await clinic.getByLabel('Patient address').fill(ANVIL_ACCOUNTS[PARTICIPANTS[1]]!.address);
        await clinic.getByLabel('labs', { exact: true }).check();
        await clinic.getByLabel('Purpose').selectOption('TREAT');
        await clinic.getByLabel('Duration (days)').fill('30');
        await screenshot(clinic, 'clinician');
      });
    }
    console.info(`marketplace journey: ${Math.round((Date.now() - started) / 1000)} s in the browser`);
  }, 420_000);
});
