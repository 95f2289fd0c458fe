/**
 * The researcher's journey in Chromium against the whole running stack (anvil, contracts, issuer,
 * relayer, committee gateways, web):
 *   a researcher (development account 3) submitting an incomplete study is told what is missing; she
 *   builds the study's criteria on /research (a criterion the circuit cannot check is refused in
 *   words; the page says why there is no live count), sees them in words and the consent text
 *   written from the terms, submits: the documents are stored and the
 *   study registered from the wallet; it shows as "Pending IRB review" and the chain holds the hashes
 *   of the documents the server serves;
 *   an IRB accredited here approves it with the sdk, and three synthetic participants enrol with real
 *   proofs (scripts/demo-participants.ts);
 *   in the browser the researcher gets test tUSD, buys (price × 3), has the committee release the
 *   purchase and decrypts it here, downloads FHIR NDJSON (3 Patients, every line a resource) and CSV
 *   (one row per resource), and the purchase shows confirmed with its spend; before the participants
 *   enrol, a purchase below k is refused in words; a second purchase nobody releases is refunded from
 *   the page once the confirmation window has passed (chain time advanced);
 *   axe-core finds no serious or critical violation at desktop and phone widths.
 * Needs the proving files (`npm run circuits:setup`) and the built web app.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { keccak256, toHex, type PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accreditOrganization, registerOrganization } from '@consentry/sdk/access/actions';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { readPurchase } from '@consentry/sdk/research/market';
import { studyDocumentHash } from '@consentry/sdk/research/study-documents';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { approveStudy, readStudy } from '@consentry/sdk/zk/chain';
import { nodeArtifacts } from '@consentry/sdk/zk/artifacts.node';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { studyMetadataHash } from '@consentry/sdk/zk/study-metadata';
import type { Criteria } from '@consentry/sdk/zk/types';
import { seedDemoParticipants } from '../scripts/demo-participants.ts';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, DESKTOP, gotoHydrated, journeySteps, launchChromium, openPage, seriousA11yViolations } from './support/browser.ts';
import { E2E_CHAIN_ID, startE2eStack } from './support/stack.ts';

const RESEARCHER = 3;
const IRB = 6;
const PHONE = { viewport: { width: 390, height: 844 } } satisfies BrowserContextOptions;
/** The demo study's criteria: the synthetic histories seedDemoParticipants finds meet them. */
const CRITERIA: Criteria = { version: 1, age: { min: 18, max: 90 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } };
const TITLE = 'HbA1c in adults with type 2 diabetes (e2e)';
const SUMMARY = 'To describe HbA1c over time in adults with type 2 diabetes, on synthetic data.';
const PROTOCOL = 'STUDY PROTOCOL\n\n1. Design\nRetrospective, observational, synthetic data only.\n';

let stack: Stack;
let browser: Browser;
let workDir: string;
let client: PublicClient;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const downloads = mkdtempSync(join(tmpdir(), 'consentry-e2e-downloads-'));
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  nodeArtifacts(); // fails now, in words, if `npm run circuits:setup` has not been run
  ({ stack, workDir } = await startE2eStack());
  client = publicClientFor(stack.rpcUrl, E2E_CHAIN_ID) as PublicClient;
  browser = await launchChromium();
  // An IRB, registered and accredited by the local accreditor (account 0), as the market fixture does.
  const c = stack.deployment.contracts;
  const access = { AccessGrants: c.AccessGrants!.address, OrganizationRegistry: c.OrganizationRegistry!.address };
  const irb = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[IRB]!.privateKey);
  await registerOrganization({ wallet: irb, client, contracts: access }, { kind: 'irb', name: 'Research e2e IRB (synthetic)' });
  const now = Number((await client.getBlock()).timestamp);
  const accreditor = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[0]!.privateKey);
  await accreditOrganization({ wallet: accreditor, client, contracts: access }, { organization: ANVIL_ACCOUNTS[IRB]!.address, until: now + 365 * 86_400 });
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
  rmSync(downloads, { recursive: true, force: true });
});

const open = (name: string, options: BrowserContextOptions = DESKTOP) => openPage(browser, contexts, name, { options });
const step = journeySteps('research', shotsDir);
const seriousViolations = seriousA11yViolations;

async function download(page: Page, link: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: link, exact: true }).click()]);
  const path = join(downloads, file.suggestedFilename());
  await file.saveAs(path);
  return readFileSync(path, 'utf8');
}

describe('the researcher in the browser', () => {
  let studyId: bigint;

  it('creates a study with the criteria builder; it is registered pending IRB review with the documents the server serves', async () => {
    const page = await open('researcher');
    await step(page, 'connect', async () => {
      await gotoHydrated(page, `${stack.webUrl}/research`);
      await connectDevAccount(page, RESEARCHER);
      await page.getByRole('heading', { name: 'Create a study' }).waitFor();
    });
    await step(page, 'incomplete', async () => {
      // Nothing is stored or sent for an incomplete study: the failure says what is missing.
      await page.getByRole('button', { name: 'Submit for IRB review' }).click();
      await expect.poll(() => page.getByTestId('create-result').getAttribute('data-phase')).toBe('failed');
      const alert = await page.getByTestId('create-result').getByRole('alert').textContent();
      expect(alert).toMatch(/^Give the study a title of at least 3 characters\. Give a summary: it is the purpose participants consent to\. Give at least one criterion/);
      expect(alert).toContain('Write the protocol the IRB will review');
    });
    await step(page, 'criteria', async () => {
      expect(await page.getByTestId('no-live-count').textContent()).toContain('There is no count of matching patients here, by design');
      await page.getByLabel('Title', { exact: true }).fill(TITLE);
      await page.getByLabel(/^Summary/).fill(SUMMARY);
      await page.getByLabel('From', { exact: true }).fill('18');
      await page.getByLabel('to', { exact: true }).fill('90');
      // Finer than the credential carries: refused in words, not rounded into a weaker criterion.
      await page.getByLabel('HbA1c minimum (%)').fill('6.55');
      expect(await page.getByTestId('criteria-problems').textContent()).toBe('HbA1c: the bound 6.55 % has more than 1 decimal, which is all a credential carries');
      await page.getByLabel('HbA1c minimum (%)').fill('6.5');
      await page.getByLabel(/^Diagnosed with any of/).fill('E11.*');
      const words = await page.getByTestId('criteria-words').locator('li').allTextContents();
      expect(words).toEqual(['Aged 18 to 90', 'HbA1c at least 6.5 %', 'Diagnosed with E11 (any code starting E11)']);
    });
    await step(page, 'terms', async () => {
      await page.getByLabel(/^Price per participant/).fill('5');
      await page.getByLabel(/^k: /).fill('3');
      await page.getByLabel(/^Researcher responsible/).fill('Dr. A. Researcher (synthetic)');
      await page.getByLabel('Reviewing IRB (name)').fill('Research e2e IRB (synthetic)');
      await page.getByLabel(/^Protocol/).fill(PROTOCOL);
      const consent = await page.getByTestId('consent-preview').textContent();
      expect(consent).toContain(`Study: ${TITLE}`);
      expect(consent).toContain('in a cohort of at least 3 participants');
      expect(consent).toContain('You will be paid 5 tUSD each time');
    });
    const consentText = (await page.getByTestId('consent-preview').textContent())!;
    await step(page, 'submit', async () => {
      await page.getByRole('button', { name: 'Submit for IRB review' }).click();
      await expect.poll(() => page.getByTestId('create-result').getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('busy');
      const result = await page.getByTestId('create-result').textContent();
      expect(await page.getByTestId('create-result').getAttribute('data-phase'), result ?? '').toBe('done');
      expect(result).toMatch(/^Confirmed: study #\d+ registered in block \d+\. It is pending IRB review\.$/);
      studyId = BigInt(/#(\d+)/.exec(result!)![1]!);
      const row = page.locator(`[data-testid="study-row"][data-study-id="${studyId}"]`);
      await expect.poll(() => row.getByTestId('study-status').textContent(), { timeout: 15_000 }).toBe('Pending IRB review');
      expect(await row.getByRole('heading').textContent()).toBe(`Study #${studyId}: ${TITLE}`);
    });
    // The chain holds the terms and the hashes of the texts the page showed and the server serves.
    const study = (await readStudy(client, { StudyRegistry: stack.deployment.contracts.StudyRegistry!.address }, studyId))!;
    expect(study).toMatchObject({ status: 'Pending', researcher: ANVIL_ACCOUNTS[RESEARCHER]!.address, minCohort: 3, pricePerParticipant: 5_000_000n, maxParticipants: 1000 });
    expect(study.criteriaHash).toBe(compileCriteria(CRITERIA).criteriaHash);
    expect(study.metadataHash).toBe(studyMetadataHash({ version: 1, title: TITLE, summary: SUMMARY, criteria: CRITERIA }));
    expect(study.protocolHash).toBe(studyDocumentHash(PROTOCOL));
    expect(study.consentHash).toBe(studyDocumentHash(consentText));
    const served = (await (await fetch(`${stack.webUrl}/api/documents/${study.consentHash}`)).json()) as { text: string };
    expect(served.text).toBe(consentText);
  }, 180_000);

  it('refuses a purchase below k, buys the cohort, releases and decrypts it in the browser, downloads NDJSON and CSV, and refunds an unreleased purchase after the deadline', async () => {
    expect(studyId, 'the study of the first test').toBeDefined();
    const irb = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[IRB]!.privateKey);
    const c = stack.deployment.contracts;
    await approveStudy(
      { wallet: irb, client, contracts: { StudyRegistry: c.StudyRegistry!.address, IssuerRegistry: c.IssuerRegistry!.address, EligibilityVerifier: c.EligibilityVerifier!.address } },
      studyId,
      keccak256(toHex('Research e2e IRB: approved, synthetic data only')),
    );

    const page = await open('buyer');
    const row = page.locator(`[data-testid="study-row"][data-study-id="${studyId}"]`);
    await step(page, 'below-k', async () => {
      await gotoHydrated(page, `${stack.webUrl}/research`);
      await connectDevAccount(page, RESEARCHER);
      await expect.poll(() => row.getByTestId('study-status').textContent(), { timeout: 20_000 }).toBe('Approved: open for enrollment and for sale');
      expect(await row.getByTestId('study-active').textContent()).toBe('0');
      await expect.poll(() => row.getByTestId('quote').textContent(), { timeout: 15_000 }).toContain('5 tUSD × 0 active participants = 0 tUSD');
      await row.getByRole('button', { name: 'Buy the cohort’s data' }).click();
      expect(await row.getByTestId(`buy-result-${studyId}`).getByRole('alert').textContent()).toBe(
        'Only 0 participants are active and the study’s k is 3: its data cannot be sold until at least 3 are, because a smaller cohort could single people out.',
      );
    });

    expect(await seedDemoParticipants(stack, () => {}, studyId, CRITERIA)).toBe(3);
    await step(page, 'cohort', async () => {
      await expect.poll(() => row.getByTestId('study-active').textContent(), { timeout: 20_000 }).toBe('3');
      await expect.poll(() => row.getByTestId('quote').textContent(), { timeout: 15_000 }).toContain('5 tUSD × 3 active participants = 15 tUSD');
      // The cohort chart is drawn (recharts' SVG) with its summary in words for screen readers.
      expect(await page.getByRole('img', { name: /^Active participants per study: .*study #\d+: 3 active \(k = 3\)/ }).locator('svg').count()).toBeGreaterThan(0);
    });
    /** Gets the quote's amount in test tUSD, then buys; the outcome in the page's words. */
    const buyWithTestTokens = async () => {
      const result = row.getByTestId(`buy-result-${studyId}`);
      await row.getByRole('button', { name: 'Get test tUSD' }).click();
      await expect.poll(() => result.getAttribute('data-phase'), { timeout: 30_000 }).toBe('done');
      await expect.poll(() => row.getByTestId('quote').textContent(), { timeout: 15_000 }).toContain('You hold 15 tUSD');
      await row.getByRole('button', { name: 'Buy the cohort’s data' }).click();
      await expect.poll(async () => (await result.textContent()) ?? '', { timeout: 60_000 }).not.toMatch(/minted|^Pending/);
      return { phase: await result.getAttribute('data-phase'), text: (await result.textContent()) ?? '' };
    };
    await step(page, 'buy', async () => {
      const { phase, text } = await buyWithTestTokens();
      expect(phase, text).toBe('done');
      expect(text).toMatch(/^Confirmed: purchase #\d+ paid, 15 tUSD for 3 participants/);
    });
    const purchase = page.locator('[data-testid="purchase-row"]').first();
    const purchaseId = BigInt((await purchase.getAttribute('data-purchase-id', { timeout: 15_000 }))!);
    await step(page, 'release', async () => {
      expect(await purchase.getAttribute('data-status')).toBe('Pending');
      await purchase.getByRole('button', { name: 'Release and download' }).click();
      const result = purchase.getByTestId(`release-result-${purchaseId}`);
      await expect.poll(() => result.getAttribute('data-phase'), { timeout: 120_000 }).not.toBe('busy');
      const text = await result.textContent();
      expect(await result.getAttribute('data-phase'), text ?? '').toBe('done');
      expect(text).toMatch(/^Released and decrypted in this browser: 3 extracts, \d+ resources\.$/);
      // Every step of the release stays in view: the committee's signatures, the confirmation, the shares.
      const steps = await purchase.getByTestId('release-steps').locator('li').allTextContents();
      expect(steps.map((s) => s.replace(/\d+ committee/, 'N committee'))).toEqual([
        'Deriving your decryption key from a wallet signature…',
        'Asking the release committee’s gateways…',
        'N committee members signed the confirmation; confirming the purchase on chain…',
        'Purchase confirmed on chain (the escrow is now the cohort’s); asking for the shares…',
        'N committee members released their shares; decrypting in this browser…',
        'Decrypted in this browser.',
      ]);
    });
    await step(page, 'download', async () => {
      const ndjson = await download(page, 'FHIR NDJSON');
      const resources = ndjson.trimEnd().split('\n').map((l) => JSON.parse(l) as { resourceType: string });
      expect(resources.filter((r) => r.resourceType === 'Patient')).toHaveLength(3);
      expect(resources.every((r) => typeof r.resourceType === 'string')).toBe(true);
      const csv = (await download(page, 'CSV')).trimEnd().split('\r\n');
      expect(csv[0]).toBe('resourceType,id,code,value,year');
      expect(csv).toHaveLength(resources.length + 1);
      expect(csv.filter((l) => l.startsWith('Patient,'))).toHaveLength(3);
      expect(csv.some((l) => /^Observation,[^,]*,http:\/\/loinc\.org\|4548-4\|/.test(l))).toBe(true);
    });
    await step(page, 'confirmed', async () => {
      await expect.poll(() => purchase.getAttribute('data-status'), { timeout: 15_000 }).toBe('Confirmed');
      expect(await purchase.getByTestId('purchase-status').textContent()).toBe('Confirmed: released to you');
      expect(await page.getByTestId('spend').textContent()).toContain('Spent (confirmed)15 tUSD');
      expect((await readPurchase(client, { StudyMarket: c.StudyMarket!.address }, purchaseId))?.status).toBe('Confirmed');
    });
    await step(page, 'axe', async () => {
      expect(await seriousViolations(page)).toEqual([]);
      // The same page at phone width (resized in place: the page, its studies, purchase and dataset stay).
      await page.setViewportSize(PHONE.viewport);
      // Nothing sticks out sideways (which would make the phone scroll the whole page horizontally).
      // (Polled: the charts follow their container's new width on the next frames.)
      const wide = () =>
        page.evaluate(() =>
          [...document.querySelectorAll('main *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && getComputedStyle(e).visibility !== 'hidden')
            .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ')[0]}` : ''}`),
        );
      await expect.poll(wide, { timeout: 5_000 }).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);
      await page.setViewportSize(DESKTOP.viewport!);
    });

    // A second purchase nobody releases: after the confirmation window the page offers the refund.
    await step(page, 'refund', async () => {
      const { phase, text } = await buyWithTestTokens();
      expect(phase, text).toBe('done');
      expect(text).toContain(`Confirmed: purchase #${purchaseId + 1n} paid, 15 tUSD`);
      const second = page.locator(`[data-testid="purchase-row"][data-purchase-id="${purchaseId + 1n}"]`);
      await expect.poll(() => second.getAttribute('data-status'), { timeout: 15_000 }).toBe('Pending');
      expect(await second.getByRole('button', { name: 'Refund' }).count()).toBe(0);
      await client.request({ method: 'evm_increaseTime', params: [86_400 + 60] } as never);
      await client.request({ method: 'evm_mine', params: [] } as never);
      await second.getByRole('button', { name: 'Refund' }).click({ timeout: 20_000 });
      const refunded = second.getByTestId(`release-result-${purchaseId + 1n}`);
      await expect.poll(() => refunded.getAttribute('data-phase'), { timeout: 30_000 }).not.toBe('busy');
      expect(await refunded.textContent()).toMatch(/^Confirmed: 15 tUSD refunded to you/);
      await expect.poll(() => second.getAttribute('data-status'), { timeout: 15_000 }).toBe('Refunded');
      const spend = await page.getByTestId('spend').textContent();
      expect(spend).toContain('Spent (confirmed)15 tUSD');
      expect(spend).toContain('Refunded15 tUSD');
    });
  }, 300_000);
});
