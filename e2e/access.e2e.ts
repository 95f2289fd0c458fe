/**
 * The patient's Access page in Chromium on the whole stack, for what the two-browser clinical
 * journey (e2e/clinical.e2e.ts) does not drive: a request appears without reload and is denied;
 * an approval that would be empty is refused in words before any transaction; a break-glass window
 * opened from Node is shown and closed; the policy (Never share, Never allow) is saved and read back
 * from chain, and then refuses an insurer's request; the webhook is saved (secret shown once),
 * refused in words for a bad URL, and cleared; nothing spills sideways at 390 px. Then receipts: a
 * grant downloads as a FHIR Consent and a clinic's logged read as an AuditEvent proven against its root.
 * Organisations act from Node with the sdk's actions (registered, accredited by anvil account 0).
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import {
  accreditOrganization,
  approveRequest,
  breakGlass,
  readAccess,
  registerOrganization,
  requestAccess,
  type ActionContext,
  type OrganizationKind,
} from '@consentry/sdk/access/actions';
import { fetchDataKey, probeGateways, readCommittee } from '@consentry/sdk/access/release';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { verifyReleaseAuditEvent, type AuditEventResource, type ConsentResource } from '@consentry/sdk/receipts/index';
import { validateFhirResource } from '@consentry/sdk/records/fhir';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { RecordsService } from '../workers/src/records/service.ts';
import { Vault, vaultOptionsFor } from '../workers/src/records/vault.ts';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, gotoHydrated, launchChromium, PHONE, withPage } from './support/browser.ts';
import { E2E_CHAIN_ID as CHAIN_ID, startE2eStack } from './support/stack.ts';

const PATIENT = 2;
const CLINIC = 7;
const MEDIC = 8;
const INSURER = 9;
const DAY = 86_400;
const LAB = {
  resourceType: 'Observation',
  id: 'hba1c-receipt-e2e',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { text: 'HbA1c' },
  valueQuantity: { value: 6.1, unit: '%' },
} as FhirResource;

let stack: Stack;
let browser: Browser;
let workDir: string;
let client: PublicClient;
let contracts: ActionContext['contracts'];
const ctxOf = (i: number): ActionContext => ({ wallet: walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[i]!.privateKey), client, contracts });
const patient = ANVIL_ACCOUNTS[PATIENT]!.address;

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack({ GATEWAY_LOG_INTERVAL_MS: '1000' }));
  browser = await launchChromium();
  client = publicClientFor(stack.rpcUrl, CHAIN_ID) as PublicClient;
  const c = stack.deployment.contracts;
  contracts = { AccessGrants: c.AccessGrants!.address, OrganizationRegistry: c.OrganizationRegistry!.address };
  // The patient registers its key (as /patient would); the organisations register and are accredited.
  const wallet = walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[PATIENT]!.privateKey);
  const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(CHAIN_ID)));
  const hash = await wallet.writeContract({ address: c.PatientRegistry.address, abi: patientRegistryAbi, functionName: 'register', args: [keys.publicKeyHex], gas: 300_000n });
  await client.waitForTransactionReceipt({ hash });
  const until = Number((await client.getBlock()).timestamp) + 365 * DAY;
  for (const [i, kind] of [[CLINIC, 'provider'], [MEDIC, 'emergency-provider'], [INSURER, 'insurer']] as Array<[number, OrganizationKind]>) {
    await registerOrganization(ctxOf(i), { kind, name: `Organisation ${i}` });
    await accreditOrganization(ctxOf(0), { organization: ANVIL_ACCOUNTS[i]!.address, until });
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
});

describe('the Access page in Chromium', () => {
  it('denies, refuses an empty approval, closes break-glass, saves a policy the chain enforces, sets and clears a webhook', async () => {
    await withPage(
      browser,
      workDir,
      'access',
      async (page) => {
        await gotoHydrated(page, `${stack.webUrl}/access`);
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Access');
        await connectDevAccount(page, PATIENT);
        await page.getByRole('heading', { name: /Requests waiting for you/ }).waitFor({ timeout: 20_000 });

        // A request made now appears without a reload, with who asks and what.
        const { requestId } = await requestAccess(ctxOf(CLINIC), { patient, categories: ['labs', 'notes'], purpose: 'TREAT', durationSeconds: 7 * DAY });
        const card = page.locator(`[data-testid="access-request"][data-request-id="${requestId}"]`);
        await card.waitFor({ timeout: 30_000 });
        expect(await card.getByTestId('asked-categories').textContent()).toBe('labs, notes');
        expect(await card.getByTestId('asked-duration').textContent()).toBe('7 days');
        await expect.poll(() => card.getByTestId('organization').textContent(), { timeout: 15_000 }).toMatch(/Provider \(clinic, hospital, practitioner\) · accredited until/);
        expect(await card.getByLabel('Share for').inputValue()).toBe(String(7 * DAY));

        // Unchecking everything is refused in words, and Approve is disabled.
        await card.getByLabel('labs', { exact: true }).uncheck();
        await card.getByLabel('notes', { exact: true }).uncheck();
        expect(await card.getByTestId('approval-problem').textContent()).toBe('Choose at least one category to approve, or deny the request');
        expect(await card.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);

        // Deny: pending, then confirmed with its block; the request leaves the inbox for the history.
        await card.getByRole('button', { name: 'Deny' }).click();
        await expect.poll(() => card.getByTestId('tx-status').textContent(), { timeout: 30_000 }).toMatch(/^Deny: confirmed in block \d+ · 0x[0-9a-f]{8}…[0-9a-f]{6}$/);
        await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(0);
        await expect
          .poll(() => page.locator('[data-testid="access-event"][data-kind="REQUEST_DENIED"]').textContent(), { timeout: 30_000 })
          .toContain(`request #${requestId}`);

        // Break-glass from Node: shown in red with its window, and closed by the patient.
        await breakGlass(ctxOf(MEDIC), { patient, reason: 'Unconscious on arrival' });
        const glass = page.locator(`[data-testid="break-glass"][data-provider="${ANVIL_ACCOUNTS[MEDIC]!.address.toLowerCase()}"]`);
        await glass.waitFor({ timeout: 30_000 });
        expect(await glass.textContent()).toContain('medications, allergies, conditions, demographics');
        expect(await glass.textContent()).toMatch(/in (4 hours|3 hours 5\d minutes)/);
        await glass.getByRole('button', { name: 'Close' }).click();
        await expect.poll(() => glass.count(), { timeout: 30_000 }).toBe(0);
        expect((await readAccess(client, contracts, patient, ANVIL_ACCOUNTS[MEDIC]!.address)).breakGlass.open).toBe(false);

        // Policy: never share mental-health, never allow insurers; read back from chain, then enforced.
        const policy = page.getByTestId('policy');
        await policy.getByRole('group', { name: 'Never share' }).getByLabel('mental-health', { exact: true }).check();
        await policy.getByRole('group', { name: 'Never allow' }).getByLabel('Insurer', { exact: true }).check();
        await policy.getByRole('button', { name: 'Save policy' }).click();
        await expect.poll(() => policy.getByTestId('tx-status').getAttribute('data-phase'), { timeout: 30_000 }).toBe('confirmed');
        await expect
          .poll(() => page.getByTestId('current-policy').textContent(), { timeout: 15_000 })
          .toBe('Now on chain: you never share mental health; you refuse every insurer. A change applies at once to every request, grant and emergency access.');
        expect((await readAccess(client, contracts, patient, ANVIL_ACCOUNTS[INSURER]!.address)).policy).toEqual({ neverShare: ['mental-health'], bannedKinds: ['insurer'] });
        await expect(requestAccess(ctxOf(INSURER), { patient, categories: ['labs'], purpose: 'HPAYMT', durationSeconds: DAY })).rejects.toThrow("The patient's policy refuses every insurer");

        // Webhook: a bad URL refused in words; a good one saved with its secret shown once; cleared.
        const hook = page.getByTestId('webhook');
        const signIn = hook.getByRole('button', { name: 'Sign in to manage notifications' });
        await signIn.waitFor({ timeout: 15_000 });
        await signIn.click();
        await hook.getByLabel('Webhook URL').waitFor({ timeout: 15_000 });
        await hook.getByLabel('Webhook URL').fill('ftp://example.org/hook');
        await hook.getByRole('button', { name: 'Save webhook' }).click();
        await expect.poll(() => hook.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/must be http\(s\)/);
        await hook.getByLabel('Webhook URL').fill('http://127.0.0.1:9/consentry');
        await hook.getByRole('button', { name: 'Save webhook' }).click();
        await expect.poll(() => hook.getByTestId('webhook-secret').textContent(), { timeout: 15_000 }).toMatch(/^[0-9a-f]{64}$/);
        await expect.poll(() => hook.getByTestId('webhook-current').textContent(), { timeout: 15_000 }).toContain('http://127.0.0.1:9/consentry');
        await hook.getByRole('button', { name: 'Clear webhook' }).click();
        await expect.poll(() => hook.getByTestId('webhook-current').textContent(), { timeout: 15_000 }).toBe('No webhook is set.');
        expect(await hook.getByTestId('webhook-secret').count()).toBe(0);

        // At phone width nothing spills sideways.
        await page.setViewportSize({ width: PHONE.viewport!.width, height: PHONE.viewport!.height });
        await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      },
    );
  }, 300_000);

  it('gives a grant as a FHIR Consent and a logged release as an AuditEvent that proves against its posted root', async () => {
    // From Node: a lab record of the patient shared with the committee, a grant of labs to the clinic, one read by the clinic.
    const c = stack.deployment.contracts;
    const wallet = walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[PATIENT]!.privateKey);
    const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(CHAIN_ID)));
    const committee = await readCommittee(client, c.ReleaseCommittee!.address);
    const vault = await Vault.open(vaultOptionsFor(stack.config, stack.env));
    let recordId: Hex;
    try {
      const records = new RecordsService({ vault, blobs: await blobStoreFromEnv({ ...stack.env, DATA_DIR: stack.config.DATA_DIR }), patient, keys });
      await records.importResources([LAB]);
      await records.shareWithCommittee(committee);
      recordId = (await records.list()).find((r) => r.category === 'labs')!.recordId as Hex;
    } finally {
      await vault.close();
    }
    const { requestId } = await requestAccess(ctxOf(CLINIC), { patient, categories: ['labs'], purpose: 'TREAT', durationSeconds: 7 * DAY });
    await approveRequest(ctxOf(PATIENT), { requestId, categories: ['labs'], durationSeconds: 7 * DAY });
    const clinicSecret = x25519.utils.randomPrivateKey();
    const clinic = privateKeyToAccount(ANVIL_ACCOUNTS[CLINIC]!.privateKey);
    await fetchDataKey({
      gateways: (await probeGateways(stack.env.GATEWAY_URLS!.split(','))).refs,
      committee,
      chainId: CHAIN_ID,
      verifyingContract: c.AccessGrants!.address,
      requester: clinic.address,
      requesterKeys: { secretKey: clinicSecret, publicKeyHex: bytesToHex(x25519.getPublicKey(clinicSecret)) },
      sign: (typed) => clinic.signTypedData(typed),
      patient,
      recordId,
      version: 1,
    });

    await withPage(browser, workDir, 'access-receipts', async (page) => {
      await gotoHydrated(page, `${stack.webUrl}/access`);
      await connectDevAccount(page, PATIENT);
      const grant = page.locator(`[data-testid="grant"][data-grantee="${clinic.address}" i]`);
      await grant.waitFor({ timeout: 30_000 });
      const consent = (await downloadReceipt(page, grant.getByTestId('grant-receipt'))) as ConsentResource;
      expect(validateFhirResource(consent)).toEqual([]);
      expect(consent).toMatchObject({ resourceType: 'Consent', status: 'active', scope: { coding: [{ code: 'patient-privacy' }] } });
      expect(consent.patient.identifier.value).toBe(patient.toLowerCase());
      expect(consent.provision.actor![0]!.reference.identifier.value).toBe(clinic.address.toLowerCase());
      expect(consent.provision.class.map((x) => x.code)).toEqual(['labs']);
      expect(consent.identifier[0]!.value).toBe(`eip155:${CHAIN_ID}:${requestId}`);

      // The read appears proven once the gateways post their roots (every second here); each gateway's entry is a receipt.
      const read = page.getByTestId('access-log').locator(`[data-testid="access-read"][data-status="proven"][data-record-id="${recordId}" i]`);
      await read.waitFor({ timeout: 90_000 });
      const event = (await downloadReceipt(page, read.getByTestId('release-receipt').first())) as AuditEventResource;
      expect(validateFhirResource(event)).toEqual([]);
      expect(event).toMatchObject({ resourceType: 'AuditEvent', action: 'R', outcome: '0' });
      expect(event.agent.find((a) => a.requestor)!.who.identifier.value).toBe(clinic.address.toLowerCase());
      expect(verifyReleaseAuditEvent(event)).toBe(true);
    });
  }, 300_000);
});

/** Clicks a receipt button and parses the file the browser saves. */
async function downloadReceipt(page: Page, button: Locator): Promise<unknown> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), button.click()]);
  return JSON.parse(readFileSync((await download.path())!, 'utf8')) as unknown;
}
