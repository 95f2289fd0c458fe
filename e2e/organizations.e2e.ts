/**
 * The organisation's side of clinical sharing in Chromium against the whole running stack (anvil,
 * contracts, indexer, three release gateways k = 2, web app). In one browser context a clinic
 * registers its organisation; in a second, the local accreditor (development account 6) accredits
 * it; the clinic asks a patient (set up from Node: registered, records imported and shared with the
 * committee) for labs and mental-health; the patient approves labs only, from Node; the clinic reads
 * the lab record, released by the committee and decrypted in the page, and is refused the
 * mental-health one in words. No request the clinic's page sent carries the record's plaintext.
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { accreditOrganization, approveRequest, registerOrganization } from '@consentry/sdk/access/actions';
import { readCommittee } from '@consentry/sdk/access/release';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { RecordsService } from '../workers/src/records/service.ts';
import { Vault, vaultOptionsFor } from '../workers/src/records/vault.ts';
import type { Stack } from '../scripts/stack.ts';
import { startE2eStack } from './support/stack.ts';
import { DESKTOP, gotoHydrated, launchChromium } from './support/browser.ts';

const CHAIN_ID = 31337;
const MARKER = 'OKAPI-PLAINTEXT-MARKER-3J8';
const lab = { resourceType: 'Observation', id: 'hba1c-e2e', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { text: MARKER }, valueQuantity: { value: 7.2, unit: '%' } } as FhirResource;
const mental = { resourceType: 'Condition', id: 'dep-e2e', subject: { reference: 'Patient/p' }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9', display: 'Depressive episode' }] } } as FhirResource;

const allergy = { resourceType: 'AllergyIntolerance', id: 'peanut-e2e', patient: { reference: 'Patient/p' }, code: { text: 'Peanut' } } as FhirResource;

const patient = ANVIL_ACCOUNTS[2]!;
const MEDIC = 5; // development account of an emergency provider
const CLINIC = 4; // development account in the clinic's browser
const ACCREDITOR = 6; // the local accreditor (scripts/accreditor.ts)

let stack: Stack;
let browser: Browser;
let workDir: string;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack());
  browser = await launchChromium();
  // The patient, from Node: registered, two records imported, their keys split to the committee.
  const wallet = walletClientFor(stack.rpcUrl, CHAIN_ID, patient.privateKey);
  const client = publicClientFor(stack.rpcUrl, CHAIN_ID);
  const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(CHAIN_ID)));
  const hash = await wallet.writeContract({ address: stack.deployment.contracts.PatientRegistry.address, abi: patientRegistryAbi, functionName: 'register', args: [keys.publicKeyHex], gas: 300_000n });
  expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success');
  const vault = await Vault.open(vaultOptionsFor(stack.config, stack.env));
  try {
    const blobs = await blobStoreFromEnv({ ...stack.env, DATA_DIR: stack.config.DATA_DIR });
    const records = new RecordsService({ vault, blobs, patient: patient.address, keys });
    await records.importResources([lab, mental, allergy]);
    expect(await records.shareWithCommittee(await readCommittee(client, stack.deployment.contracts.ReleaseCommittee!.address))).toBeGreaterThanOrEqual(3);
  } finally {
    await vault.close();
  }
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
});

async function openAs(index: number, path: string): Promise<Page> {
  const context = await browser.newContext(DESKTOP);
  contexts.push(context);
  const page = await context.newPage();
  await gotoHydrated(page, `${stack.webUrl}${path}`);
  await page.getByLabel('Account', { exact: true }).selectOption(`dev-account-${index}`);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  return page;
}

async function screenshotOnFailure<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const file = join(shotsDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    if (err instanceof Error) err.message += `\n  screenshot: ${file}`;
    throw err;
  }
}

describe('Organisations and clinicians in Chromium', () => {
  it('registers, is accredited, asks, is granted labs, reads the lab record decrypted in the page and is refused mental-health in words', async () => {
    const clinicAddress = ANVIL_ACCOUNTS[CLINIC]!.address;
    const clinic = await openAs(CLINIC, '/organizations');
    const sent: string[] = [];
    clinic.on('request', (r) => sent.push(`${r.method()} ${r.url()}\n${r.postData() ?? ''}`));

    await screenshotOnFailure(clinic, 'register', async () => {
      await clinic.getByLabel('Organisation kind').selectOption('provider');
      await clinic.getByLabel('Legal name').fill('Harbour Street Clinic');
      await clinic.getByRole('button', { name: 'Register organisation' }).click();
      await expect.poll(() => clinic.getByTestId('org-status').textContent(), { timeout: 30_000 }).toBe('Pending accreditation');
      // Asking before accreditation is refused by the contract, in words.
      await gotoHydrated(clinic, `${stack.webUrl}/clinician`);
      await clinic.getByLabel('Patient address').fill(patient.address);
      await clinic.getByLabel('labs', { exact: true }).check();
      await clinic.getByRole('button', { name: 'Request access' }).click();
      await expect.poll(() => clinic.getByTestId('request-result').getByRole('alert').textContent(), { timeout: 30_000 }).toBe('Your organisation is not accredited (register it and ask an accreditor)');
    });

    const accreditor = await openAs(ACCREDITOR, '/organizations');
    await screenshotOnFailure(accreditor, 'accredit', async () => {
      const row = accreditor.locator(`[data-testid="org-row"][data-address="${clinicAddress.toLowerCase()}"]`);
      await row.waitFor({ timeout: 30_000 });
      expect(await row.textContent()).toContain('Pending accreditation');
      await row.getByRole('button', { name: 'Accredit (1 year)' }).click();
      await expect.poll(() => accreditor.getByTestId('accredit-result').getByRole('status').textContent(), { timeout: 30_000 }).toMatch(/^Accredited 0x[0-9a-fA-F]{40} for one year/);
    });

    await screenshotOnFailure(clinic, 'request', async () => {
      await gotoHydrated(clinic, `${stack.webUrl}/organizations`);
      await expect.poll(() => clinic.getByTestId('org-status').textContent(), { timeout: 30_000 }).toMatch(/^Accredited until \d{4}-\d{2}-\d{2}$/);
      expect(await clinic.getByRole('heading', { name: 'Accreditor' }).count()).toBe(0);
      await gotoHydrated(clinic, `${stack.webUrl}/clinician`);
      // Bad input is refused in words before anything is sent.
      await clinic.getByLabel('Patient address').fill('0x1234');
      await clinic.getByRole('button', { name: 'Request access' }).click();
      expect(await clinic.getByTestId('request-result').getByRole('alert').textContent()).toBe('The patient address must be 0x followed by 40 hex digits');
      await clinic.getByLabel('Patient address').fill(patient.address);
      await clinic.getByLabel('labs', { exact: true }).check();
      await clinic.getByLabel('mental-health', { exact: true }).check();
      await clinic.getByLabel('Purpose').selectOption({ label: 'Treatment' });
      await clinic.getByLabel('Duration (days)').fill('7');
      await clinic.getByRole('button', { name: 'Request access' }).click();
      await expect.poll(() => clinic.getByTestId('request-result').getByRole('status').textContent(), { timeout: 30_000 }).toMatch(/^Request #1 sent/);
      await expect.poll(() => clinic.getByTestId('request-row').first().getAttribute('data-status'), { timeout: 30_000 }).toBe('pending');
    });

    // The patient approves labs only, from Node.
    const approval = await approveRequest(
      {
        wallet: walletClientFor(stack.rpcUrl, CHAIN_ID, patient.privateKey),
        client: publicClientFor(stack.rpcUrl, CHAIN_ID),
        contracts: { AccessGrants: stack.deployment.contracts.AccessGrants!.address, OrganizationRegistry: stack.deployment.contracts.OrganizationRegistry!.address },
      },
      { requestId: 1n, categories: ['labs'], durationSeconds: 7 * 86_400 },
    );
    expect(approval.events.map((e) => e.eventName)).toContain('RequestApproved');

    await screenshotOnFailure(clinic, 'read', async () => {
      const row = clinic.getByTestId('request-row').first();
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('approved');
      expect(await row.textContent()).toMatch(/granted labs until/);
      const block = clinic.locator(`[data-testid="patient-block"][data-patient="${patient.address.toLowerCase()}"]`);
      await expect.poll(() => block.getByTestId('grant-state').textContent(), { timeout: 20_000 }).toMatch(/Live now: labs\./);
      await block.getByRole('button', { name: 'Show records' }).click();
      const records = block.getByTestId('clinical-record');
      await expect.poll(() => records.count(), { timeout: 30_000 }).toBe(2);

      const labRow = block.locator('[data-testid="clinical-record"][data-category="labs"]');
      await labRow.getByRole('button', { name: 'Read' }).click();
      await expect.poll(() => labRow.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
      expect(await labRow.getByRole('status').textContent()).toContain(MARKER);
      await labRow.getByText('FHIR JSON').click();
      expect(await labRow.locator('pre').textContent()).toContain('"valueQuantity"');

      const mentalRow = block.locator('[data-testid="clinical-record"][data-category="mental-health"]');
      await mentalRow.getByRole('button', { name: 'Read' }).click();
      await expect.poll(() => mentalRow.getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
      expect(await mentalRow.getByRole('alert').textContent()).toBe("Your grant does not cover this record's category");
      expect(await mentalRow.textContent()).not.toContain('Depressive');

      // At phone width nothing spills sideways.
      await clinic.setViewportSize({ width: 390, height: 844 });
      await expect.poll(() => clinic.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    });

    // The page asked the gateways itself; nothing it sent carried the record's plaintext.
    expect(sent.filter((r) => r.startsWith('POST') && r.includes('/release')).length).toBeGreaterThanOrEqual(4);
    for (const r of sent) {
      expect(r).not.toContain(MARKER);
      expect(r).not.toContain('"valueQuantity"');
      expect(r).not.toContain('F32.9');
    }
  }, 300_000);

  it('lets an accredited emergency provider break glass and read the emergency profile, with the window and notice in words', async () => {
    const contracts = { AccessGrants: stack.deployment.contracts.AccessGrants!.address, OrganizationRegistry: stack.deployment.contracts.OrganizationRegistry!.address };
    const client = publicClientFor(stack.rpcUrl, CHAIN_ID);
    await registerOrganization({ wallet: walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[MEDIC]!.privateKey), client, contracts }, { kind: 'emergency-provider', name: 'Harbour Ambulance Service' });
    const now = Number((await client.getBlock()).timestamp);
    await accreditOrganization({ wallet: walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[ACCREDITOR]!.privateKey), client, contracts }, { organization: ANVIL_ACCOUNTS[MEDIC]!.address, until: now + 86_400 });

    const medic = await openAs(MEDIC, '/emergency');
    const sent: string[] = [];
    medic.on('request', (r) => sent.push(`${r.method()} ${r.url()}\n${r.postData() ?? ''}`));
    await screenshotOnFailure(medic, 'break-glass', async () => {
      await medic.getByLabel('Patient address').fill(patient.address);
      await medic.getByRole('button', { name: 'Break glass' }).click();
      expect(await medic.getByTestId('break-glass-result').getByRole('alert').textContent()).toBe('Break-glass needs a reason');
      await medic.getByLabel('Reason').fill('Unconscious on arrival, suspected anaphylaxis');
      await medic.getByRole('button', { name: 'Break glass' }).click();
      await expect.poll(() => medic.getByTestId('break-glass-result').getByRole('status').textContent(), { timeout: 30_000 }).toMatch(
        /^Break-glass open until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(chain time\) for medications, allergies, conditions, demographics\. The patient is notified\. Only the reason's hash is on chain\.$/,
      );
      const records = medic.getByTestId('clinical-record');
      await expect.poll(() => records.count(), { timeout: 30_000 }).toBe(1);
      expect(await records.first().getAttribute('data-category')).toBe('allergies');
      await records.first().getByRole('button', { name: 'Read' }).click();
      await expect.poll(() => records.first().getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
      expect(await records.first().getByRole('status').textContent()).toContain('Peanut');
    });
    for (const r of sent) {
      expect(r).not.toContain('Peanut');
      expect(r).not.toContain('anaphylaxis'); // the reason goes on chain as a hash only
    }
  }, 300_000);
});
