/**
 * Zero-knowledge eligibility in Chromium against the whole running stack (anvil, contracts, the
 * credential issuer, web), with the demo study (type 2 diabetes E11.*, aged 18–90, HbA1c ≥ 6.5 %):
 *   the eligible patient (development account 8, synthetic: E11.9, HbA1c 6.9 %) decrypts her records
 *   in the browser and sends them to the issuer directly (the web server sees no plaintext), gets a
 *   credential, checks locally, sees the study's terms and what is shared, consents, builds and seals
 *   her de-identified extract and proves IN THE BROWSER (worker, progress shown), and enrols gasless:
 *   her per-study address signs, the relayer sends through the Forwarder; the chain says that address
 *   is enrolled, holds 0 ETH, is not her wallet, and the registered extract hash is the page's, whose
 *   sealed ciphertext every committee gateway now serves (uploaded before enrolling);
 *   after a reload the study shows enrolled and enrolling again is refused in words, and the chain
 *   refuses the same proof again (already enrolled) and from another address (front-running);
 *   she downloads her consent receipt (a FHIR Consent naming her study address, never her wallet);
 *   after her claim, her earnings chart shows what she claimed and nothing left to claim;
 *   she revokes her consent (relayed too) and the chain says revoked, and her receipt says inactive;
 *   the ineligible patient (account 7, no diabetes) is told which criterion fails and cannot prove.
 * Needs the proving files (`npm run circuits:setup`) and the built web app.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { decodeFunctionData, erc20Abi, type Hex, type PublicClient } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { x25519 } from '@noble/curves/ed25519.js';
import { faucet, purchase } from '@consentry/sdk/research/market';
import { requestPurchaseRelease } from '@consentry/sdk/research/purchase-release';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { forwarderAbi } from '@consentry/sdk/research/forwarder';
import { ActionRefusedError } from '@consentry/sdk/access/actions';
import { probeGateways } from '@consentry/sdk/access/release';
import { fundOnLocalChain } from '@consentry/sdk/access/simulator';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import type { ConsentResource } from '@consentry/sdk/receipts/index';
import { validateFhirResource } from '@consentry/sdk/records/fhir';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { enroll, isEnrolled, readConsent, type EnrollmentProof, type ZkContracts } from '@consentry/sdk/zk/chain';
import { nodeArtifacts } from '@consentry/sdk/zk/artifacts.node';
import { identitySecretFromSeed, nullifierFor } from '@consentry/sdk/zk/identity';
import { identitySeedFromEncryptionKey, studyAccount, studyAccountKey } from '@consentry/sdk/zk/study-account';
import { DEMO_STUDY, seedDemoRecords, seedStudy } from '../scripts/demo.ts';
import { seedDemoParticipants } from '../scripts/demo-participants.ts';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, DESKTOP, gotoHydrated, journeySteps, launchChromium } from './support/browser.ts';
import { E2E_CHAIN_ID, startE2eStack } from './support/stack.ts';

const ELIGIBLE = 8; // demo patient 1
const INELIGIBLE = 7; // demo patient 0
let stack: Stack;
let browser: Browser;
let workDir: string;
let studyId: bigint;
let contracts: ZkContracts;
let client: PublicClient;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  nodeArtifacts(); // fails now, in words, if `npm run circuits:setup` has not been run
  ({ stack, workDir } = await startE2eStack());
  const c = stack.deployment.contracts;
  contracts = {
    IssuerRegistry: c.IssuerRegistry!.address,
    StudyRegistry: c.StudyRegistry!.address,
    EligibilityVerifier: c.EligibilityVerifier!.address,
    ConsentToken: c.ConsentToken!.address,
  };
  client = publicClientFor(stack.rpcUrl, E2E_CHAIN_ID) as PublicClient;
  [browser] = await Promise.all([launchChromium(), seedDemoRecords(stack, () => {}, [0, 1])]);
  ({ studyId } = await seedStudy(stack, () => {}));
  // Three synthetic participants (real proofs, relayed) so that the study reaches k = 3 and can be bought.
  await seedDemoParticipants(stack, () => {}, studyId, DEMO_STUDY.criteria);
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
});

async function open(name: string): Promise<Page> {
  const context = await browser.newContext(DESKTOP);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] ${e.message}`));
  return page;
}

async function signIn(page: Page, index: number): Promise<void> {
  await gotoHydrated(page, `${stack.webUrl}/eligibility`);
  await connectDevAccount(page, index);
  await page.getByRole('button', { name: 'Open my eligibility' }).click();
  await page.getByTestId('credential-panel').waitFor({ timeout: 30_000 });
}

async function getCredential(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Get a credential' }).click();
  await expect.poll(() => page.getByTestId('credential-panel').getAttribute('data-state'), { timeout: 30_000 }).toBe('held');
}

const step = journeySteps('eligibility', shotsDir);

/** The patient's zk secret, derived in Node as her browser derives it: wallet signature → key → identity. */
async function secretOf(index: number): Promise<bigint> {
  const wallet = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[index]!.privateKey);
  const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(E2E_CHAIN_ID)));
  return identitySecretFromSeed(identitySeedFromEncryptionKey(keys.secretKey));
}

/** Clicks a receipt button and parses the file the browser saves. */
async function downloadReceipt(page: Page, button: Locator): Promise<ConsentResource> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), button.click()]);
  return JSON.parse(readFileSync((await download.path())!, 'utf8')) as ConsentResource;
}

/** The StudyRegistry.enroll arguments inside a relayed Forwarder.execute transaction. */
async function enrollArgs(hash: Hex) {
  const tx = await client.getTransaction({ hash });
  const outer = decodeFunctionData({ abi: forwarderAbi, data: tx.input });
  const request = outer.args[0] as { data: Hex };
  const { args } = decodeFunctionData({ abi: studyRegistryAbi, data: request.data });
  return { args, extractHash: (args[2] as Hex).toLowerCase() };
}

describe('eligibility in the browser', () => {
  it('an eligible patient gets a credential, checks, proves in the browser and enrols once; the chain agrees and refuses again in words', async () => {
    const page = await open('eligible');
    const webOrigin = new URL(stack.webUrl).origin;
    const issuerUrl = stack.env.ISSUER_URL!;
    const sent: Array<{ url: string; body: string }> = [];
    page.on('request', (r) => sent.push({ url: r.url(), body: r.postData() ?? '' }));
    const stages = new Set<string>();

    await step(page, 'credential', async () => {
      await signIn(page, ELIGIBLE);
      expect(await page.getByTestId('credential-none').textContent()).toBe('You have no credential in this browser yet.');
      await getCredential(page);
      const attributes = await page.getByTestId('credential-attributes').textContent();
      expect(attributes).toContain('E11.9');
      expect(attributes).toContain('HbA1c 6.9 %');
      expect(attributes).toContain('1957-06-25');
      // The records went to the issuer, from this browser; the web server got no plaintext.
      expect(sent.filter((r) => r.url === `${issuerUrl}/credentials`)).toHaveLength(1);
      expect(sent.filter((r) => r.url.startsWith(webOrigin) && /E11\.9|4548-4|1957-06-25/.test(r.body))).toEqual([]);
    });

    const card = page.locator(`[data-testid="study"][data-study-id="${studyId}"]`);
    const enrolButton = card.getByRole('button', { name: 'Prove and enrol' });

    await step(page, 'check', async () => {
      expect(await card.getByTestId('study-criteria').textContent()).toBe('Aged 18 to 90HbA1c at least 6.5 %Diagnosed with E11 (any code starting E11)Credential issued in the last 365 days');
      expect(await card.getByTestId('enrol-blocker').textContent()).toBe('Check your eligibility first');
      await card.getByRole('button', { name: 'Check eligibility' }).click();
      await card.getByTestId('eligible').waitFor();
      expect(await card.getByTestId('enrol-blocker').textContent()).toBe('Give your consent first');
      expect(await enrolButton.isDisabled()).toBe(true);
      // The consent text is shown before agreeing, and it is the one whose hash the study registered.
      const consentText = await card.getByTestId('consent-text').innerText();
      for (const element of [/revoke/i, /expire/i, /de-identified/i, /signature/i]) expect(consentText).toMatch(element);
      const onChain = await client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyOf', args: [studyId] });
      expect(onChain.consentHash).not.toBe(`0x${'0'.repeat(64)}`);
      expect(await card.getByTestId('document-problem').count()).toBe(0);
    });

    await step(page, 'prove and enrol', async () => {
      await card.getByLabel(/I have read the consent text above and agree to take part in/).check();
      await enrolButton.click();
      const started = Date.now();
      // Watch the stages go by while the worker proves.
      while (Date.now() - started < 100_000) {
        const phase = await card.getByTestId('enrol-status').getAttribute('data-phase').catch(() => null);
        const stage = await card.getByTestId('proof-stage').getAttribute('data-stage', { timeout: 50 }).catch(() => null);
        if (stage) stages.add(stage);
        if (phase === 'confirmed' || phase === 'failed') break;
        await page.waitForTimeout(50);
      }
      const problem = await card.getByTestId('enrol-problem').textContent({ timeout: 10 }).catch(() => null);
      expect(problem).toBeNull();
      expect(await card.getByTestId('enrol-status').getAttribute('data-phase')).toBe('confirmed');
      expect([...stages]).toEqual(expect.arrayContaining(['artifacts', 'proving']));
      expect(await card.getByTestId('proof-timings').getAttribute('data-source')).toBe('network');
    });

    const hash = (await card.getByTestId('enrol-hash').textContent()) as Hex;
    const secret = await secretOf(ELIGIBLE);
    const participant = studyAccount(secret, studyId).address;

    await step(page, 'the chain', async () => {
      expect(await isEnrolled(client, contracts, studyId, participant)).toBe(true);
      expect(participant).not.toBe(ANVIL_ACCOUNTS[ELIGIBLE]!.address);
      expect(await isEnrolled(client, contracts, studyId, ANVIL_ACCOUNTS[ELIGIBLE]!.address)).toBe(false);
      const receipt = await client.getTransactionReceipt({ hash });
      expect(receipt.status).toBe('success');
      // Gasless: the relayer sent it through the Forwarder; the study address never held ether.
      expect(receipt.from).not.toBe(participant.toLowerCase());
      expect(receipt.to).toBe(stack.deployment.contracts.Forwarder!.address.toLowerCase());
      expect(await client.getBalance({ address: participant })).toBe(0n);
      // The extract hash registered on chain is the one the page sealed (sha256 of its ciphertext).
      const shown = await card.getByTestId('extract-hash').getAttribute('data-extract-hash');
      expect(shown).toMatch(/^0x[0-9a-f]{64}$/);
      expect(shown).not.toBe(`0x${'0'.repeat(64)}`);
      expect((await enrollArgs(hash)).extractHash).toBe(shown);
      // The sealed extract was uploaded before enrolling: every committee gateway serves its
      // ciphertext by the hash on chain, and the SHA-256 of what it serves is that hash.
      const gateways = stack.env.GATEWAY_URLS!.split(',');
      expect(gateways.length).toBe(3);
      for (const g of gateways) {
        const res = await fetch(`${g}/extracts/${shown}`);
        expect(res.status).toBe(200);
        expect(`0x${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`).toBe(shown);
      }
    });

    await step(page, 'the consent receipt names the study address only', async () => {
      const consent = await downloadReceipt(page, card.getByTestId('enrollment-receipt'));
      expect(validateFhirResource(consent)).toEqual([]);
      expect(consent).toMatchObject({ resourceType: 'Consent', status: 'active', scope: { coding: [{ code: 'research' }] } });
      expect(consent.patient.identifier).toEqual({ system: 'urn:consentry:study-participant', value: participant.toLowerCase() });
      expect(JSON.stringify(consent.extension)).toContain(hash.toLowerCase());
      expect(consent.sourceAttachment?.url).toMatch(/^urn:consentry:sha256:[0-9a-f]{64}$/);
      // Pseudonymous: her wallet's address is nowhere in it, in any case.
      expect(JSON.stringify(consent).toLowerCase()).not.toContain(ANVIL_ACCOUNTS[ELIGIBLE]!.address.slice(2).toLowerCase());
    });

    await step(page, 'reload shows enrolled and refuses again', async () => {
      await page.reload();
      await page.waitForSelector('html[data-hydrated="true"]');
      await page.getByRole('button', { name: 'Open my eligibility' }).click();
      await expect.poll(() => card.getByTestId('enrolment-status').textContent(), { timeout: 15_000 }).toBe('Enrolled');
      // The credential was kept (sealed) in this browser.
      expect(await page.getByTestId('credential-panel').getAttribute('data-state')).toBe('held');
      expect(await card.getByTestId('enrol-blocker').textContent()).toBe('You are already enrolled in this study');
      expect(await enrolButton.isDisabled()).toBe(true);
    });

    await step(page, 'the chain refuses the same proof again, and from another address', async () => {
      const { args } = await enrollArgs(hash);
      const p = args[1] as { issuersRoot: bigint; criteriaHash: bigint; time: bigint; nullifier: bigint; proof: readonly bigint[] };
      expect(p.nullifier).toBe(nullifierFor(secret, studyId));
      const bundle: EnrollmentProof = { ...p, studyId, recipient: participant };
      const again = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, studyAccountKey(secret, studyId));
      const replay = enroll({ wallet: again, client, contracts }, studyId, bundle);
      await expect(replay).rejects.toBeInstanceOf(ActionRefusedError);
      await expect(replay).rejects.toThrow(/already enrolled/);
      const thief = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[5]!.privateKey);
      await fundOnLocalChain(client, thief.account.address);
      await expect(enroll({ wallet: thief, client, contracts }, studyId, bundle)).rejects.toThrow(/The proof does not verify|already enrolled/);
    });

    await step(page, 'a researcher buys; she claims what she earned to an address she chooses', async () => {
      const researcher = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[3]!.privateKey);
      const c = stack.deployment.contracts;
      const market = { client, wallet: researcher, contracts: { StudyMarket: c.StudyMarket!.address, StudyRegistry: c.StudyRegistry!.address, TestToken: c.TestToken!.address, ConsentToken: c.ConsentToken!.address } };
      await faucet(market, researcher.account.address, 100_000_000n);
      const bought = await purchase(market, studyId);
      expect(bought.cohort).toBe(4); // the 3 synthetic participants and her
      const { refs: gateways } = await probeGateways(stack.env.GATEWAY_URLS!.split(','));
      await requestPurchaseRelease({ ctx: market, gateways, purchaseId: bought.purchaseId, buyerKey: x25519.getPublicKey(x25519.utils.randomPrivateKey()), threshold: 2 });
      await page.reload();
      await page.waitForSelector('html[data-hydrated="true"]');
      await page.getByRole('button', { name: 'Open my eligibility' }).click();
      await expect.poll(() => card.getByTestId('claimable').getAttribute('data-amount'), { timeout: 30_000 }).toBe('5000000');
      expect(await card.getByTestId('claimable').textContent()).toContain('5 tUSD');
      // Her own wallet is warned against (it would link the study address to her); she picks another.
      await card.getByLabel('Pay to address').fill(ANVIL_ACCOUNTS[ELIGIBLE]!.address);
      expect(await card.getByTestId('earnings').textContent()).toContain('shows on chain that this study address is yours');
      const payee = privateKeyToAccount(generatePrivateKey()).address;
      await card.getByLabel('Pay to address').fill(payee);
      await card.getByRole('button', { name: 'Claim' }).click();
      await expect.poll(() => card.getByTestId('claim-status').getAttribute('data-phase'), { timeout: 60_000 }).toBe('confirmed');
      expect(await client.readContract({ address: c.TestToken!.address, abi: erc20Abi, functionName: 'balanceOf', args: [payee] })).toBe(5_000_000n);
      expect(await client.getBalance({ address: participant })).toBe(0n);
      await expect.poll(() => card.getByTestId('claimable').getAttribute('data-amount'), { timeout: 30_000 }).toBe('0');
      // Her earnings over time: the chart says what she claimed, and that nothing is left to claim.
      const chart = card.getByTestId('earnings-chart');
      await expect.poll(() => chart.getAttribute('data-claimed'), { timeout: 30_000 }).toBe('5000000');
      expect(await chart.getAttribute('data-claimable')).toBe('0');
      expect(await chart.locator('figcaption').textContent()).toBe('Your earnings in this study over time (tUSD): 5 earned so far, 5 of it claimed');
      expect(await chart.locator('svg .recharts-line').count()).toBe(2);
    });

    await step(page, 'terms shown, consent expiry, and a gasless revocation', async () => {
      expect(await card.getByTestId('study-terms').isVisible()).toBe(true);
      expect(await card.getByTestId('safe-harbor-list').locator('li').count()).toBe(8);
      const consent = await readConsent(client, contracts, participant, studyId);
      expect(consent.active).toBe(true);
      expect(await card.getByTestId('consent').getAttribute('data-state')).toBe('active');
      await card.getByRole('button', { name: 'Revoke consent' }).click();
      await expect.poll(() => card.getByTestId('revoke-status').getAttribute('data-phase'), { timeout: 60_000 }).not.toBe('pending');
      expect(await card.getByTestId('revoke-status').textContent()).toMatch(/^Consent revoked/);
      expect((await readConsent(client, contracts, participant, studyId)).revoked).toBe(true);
      await expect.poll(() => card.getByTestId('consent').getAttribute('data-state'), { timeout: 15_000 }).toBe('revoked');
      expect(await client.getBalance({ address: participant })).toBe(0n);
      // Its receipt now says inactive and names the revocation.
      const revoked = await downloadReceipt(page, card.getByTestId('enrollment-receipt'));
      expect(revoked.status).toBe('inactive');
      expect(JSON.stringify(revoked.extension)).toContain('"revocation"');
    });
  });

  it('an ineligible patient is told which criterion fails and cannot prove', async () => {
    const page = await open('ineligible');
    await step(page, 'ineligible', async () => {
      await signIn(page, INELIGIBLE);
      await getCredential(page);
      const card = page.locator(`[data-testid="study"][data-study-id="${studyId}"]`);
      await card.getByRole('button', { name: 'Check eligibility' }).click();
      const failures = card.getByTestId('eligibility-failures').locator('li');
      await failures.first().waitFor();
      expect(await failures.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-criterion')))).toEqual(['conditions.anyOf']);
      expect(await failures.first().textContent()).toMatch(/E11/);
      await card.getByLabel(/agree to take part in/).check();
      expect(await card.getByRole('button', { name: 'Prove and enrol' }).isDisabled()).toBe(true);
      expect(await card.getByTestId('enrol-blocker').textContent()).toBe("You do not meet this study's criteria (see above), so no proof can be made");
      expect(await card.getByTestId('enrolment-status').textContent()).toBe('Not enrolled');
    });
  });
});
