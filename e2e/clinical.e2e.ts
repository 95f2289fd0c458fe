/**
 * Clinical sharing in Chromium with two browser contexts side by side, against the whole running
 * stack (anvil, contracts, indexer, three release gateways with k = 2, anchorer, web):
 *   the patient uploads a lab result and a mental-health note in her browser (shared with the
 *   committee there); a clinic asks for labs and mental-health in its browser; the patient approves
 *   labs only, for 7 days; the clinic reads the lab (decrypted in its browser) and is refused the
 *   note; the patient revokes and the next read is refused; a new 7-day grant is refused once
 *   anvil's clock passes its expiry; the patient's access log shows each read, proven against the
 *   log roots the gateways posted on chain.
 * The organisation is registered and accredited from Node (e2e/organizations.e2e.ts covers that in
 * the browser), as is the patient's on-chain registration (e2e/signup.e2e.ts covers that).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accreditOrganization, registerOrganization, type ActionContext } from '@consentry/sdk/access/actions';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, DESKTOP, gotoHydrated, launchChromium } from './support/browser.ts';
import { startE2eStack } from './support/stack.ts';

const CHAIN_ID = 31337;
const DAY = 86_400;
const LAB_MARKER = 'HBA1C-LAB-MARKER-K2';
const NOTE_MARKER = 'MENTAL-NOTE-MARKER-K2';
const PATIENT = 2;
const CLINIC = 4;
let stack: Stack;
let browser: Browser;
let workDir: string;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack({ ANCHOR_INTERVAL_MS: '1000', GATEWAY_LOG_INTERVAL_MS: '1000' }));
  browser = await launchChromium();
  const c = stack.deployment.contracts;
  const client = publicClientFor(stack.rpcUrl, CHAIN_ID);
  const ctx = (index: number): ActionContext => ({
    wallet: walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[index]!.privateKey),
    client,
    contracts: { AccessGrants: c.AccessGrants!.address, OrganizationRegistry: c.OrganizationRegistry!.address },
  });
  await registerOrganization(ctx(CLINIC), { kind: 'provider', name: 'Riverside Clinic' });
  await accreditOrganization(ctx(0), { organization: ANVIL_ACCOUNTS[CLINIC]!.address, until: Math.floor(Date.now() / 1000) + 365 * DAY });
  // The patient's key is derived from her wallet's signature, in Node now and in her browser later.
  const wallet = walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[PATIENT]!.privateKey);
  const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(CHAIN_ID)));
  const hash = await wallet.writeContract({ address: c.PatientRegistry.address, abi: patientRegistryAbi, functionName: 'register', args: [keys.publicKeyHex] });
  expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success');
}, 240_000);

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

/** On failure, a screenshot of each side is saved and named in the error. */
async function step<T>(pages: Record<string, Page>, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const shots: string[] = [];
    for (const [who, page] of Object.entries(pages)) {
      const file = join(shotsDir, `clinical-${name}-${who}.png`.replace(/[^a-z0-9.-]+/gi, '-'));
      if (await page.screenshot({ path: file, fullPage: true }).then(() => true, () => false)) shots.push(file);
    }
    if (err instanceof Error) err.message += `\n  step: ${name}\n  screenshots: ${shots.join(', ')}`;
    throw err;
  }
}

const lab = {
  resourceType: 'Observation',
  id: 'lab-hba1c',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c' }], text: LAB_MARKER },
  valueQuantity: { value: 7.2, unit: '%' },
};
const note = {
  resourceType: 'Condition',
  id: 'dep-note',
  subject: { reference: 'Patient/p' },
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9' }], text: NOTE_MARKER },
};

describe('clinical sharing with two browsers (patient and clinic)', () => {
  it('asks, approves labs not mental-health for 7 days, reads, refuses, revokes, expires, and logs every read with its proof', async () => {
    const patient = await open('patient');
    const clinic = await open('clinic');
    const pages = { patient, clinic };
    const patientAddress = ANVIL_ACCOUNTS[PATIENT]!.address;
    const clinicAddress = ANVIL_ACCOUNTS[CLINIC]!.address;
    const clinicSent: string[] = [];
    clinic.on('request', (r) => clinicSent.push(`${r.url()}\n${r.postData() ?? ''}`));

    await step(pages, 'upload', async () => {
      const file = join(workDir, 'mine.json');
      writeFileSync(file, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: lab }, { resource: note }] }));
      await gotoHydrated(patient, `${stack.webUrl}/records`);
      await connectDevAccount(patient, PATIENT);
      await patient.getByRole('button', { name: 'Open my records' }).click();
      await patient.getByLabel('FHIR R4 Bundles (.json) or Bulk Data NDJSON (.ndjson)').setInputFiles(file);
      await patient.getByRole('button', { name: 'Encrypt and upload' }).click();
      await expect.poll(() => patient.getByTestId('committee-sharing').getAttribute('data-state'), { timeout: 90_000 }).toBe('done');
      expect(await patient.getByTestId('import-summary').textContent()).toBe('2 stored, 0 already stored, 0 rejected.');
    });

    await step(pages, 'request', async () => {
      await gotoHydrated(clinic, `${stack.webUrl}/clinician`);
      await connectDevAccount(clinic, CLINIC);
      await clinic.getByLabel('Patient address').fill(patientAddress);
      await clinic.getByLabel('labs', { exact: true }).check();
      await clinic.getByLabel('mental-health', { exact: true }).check();
      await clinic.getByLabel('Purpose').selectOption('TREAT');
      await clinic.getByLabel('Duration (days)').fill('30');
      await clinic.getByRole('button', { name: 'Request access' }).click();
      await expect.poll(() => clinic.getByTestId('request-result').textContent(), { timeout: 30_000 }).toMatch(/Request #1 sent \(block \d+\)/);
    });

    await step(pages, 'approve labs for 7 days', async () => {
      await gotoHydrated(patient, `${stack.webUrl}/access`);
      const card = patient.getByTestId('access-request').filter({ hasText: 'Request #1' });
      await card.waitFor({ timeout: 30_000 });
      expect(await card.getByTestId('asked-categories').textContent()).toBe('labs, mental health');
      expect(await card.getByTestId('asked-duration').textContent()).toBe('30 days');
      await card.getByLabel('mental-health', { exact: true }).uncheck();
      await card.getByLabel('Share for').selectOption({ label: '7 days' });
      await card.getByRole('button', { name: 'Approve' }).click();
      const grant = patient.locator(`[data-testid="grant"][data-grantee="${clinicAddress}" i]`);
      await grant.waitFor({ timeout: 30_000 });
      expect(await grant.getByTestId('grant-categories').textContent()).toMatch(/^\s*labs\s*$/);
    });

    const readButton = (category: string) => clinic.locator(`[data-testid="clinical-record"][data-category="${category}"]`).getByRole('button', { name: 'Read' });
    const record = (category: string) => clinic.locator(`[data-testid="clinical-record"][data-category="${category}"]`);
    const read = async (category: string) => {
      await readButton(category).click();
      await expect.poll(() => record(category).getAttribute('data-state'), { timeout: 30_000 }).toMatch(/^(done|failed)$/);
      return { state: await record(category).getAttribute('data-state'), text: (await record(category).textContent()) ?? '' };
    };

    await step(pages, 'read labs, refused mental-health', async () => {
      await gotoHydrated(clinic, `${stack.webUrl}/clinician`);
      const block = clinic.locator(`[data-testid="patient-block"][data-patient="${patientAddress.toLowerCase()}"]`);
      await expect.poll(() => block.getByTestId('grant-state').textContent(), { timeout: 30_000 }).toMatch(/Live now: labs\./);
      await block.getByRole('button', { name: 'Show records' }).click();
      await record('labs').waitFor({ timeout: 30_000 });
      const labRead = await read('labs');
      expect(labRead.state).toBe('done');
      await record('labs').locator('summary').click();
      expect(await record('labs').locator('pre').textContent()).toContain(LAB_MARKER);
      const noteRead = await read('mental-health');
      expect(noteRead.state).toBe('failed');
      expect(noteRead.text).toMatch(/does not cover this record's category/);
      expect(noteRead.text).not.toContain(NOTE_MARKER);
    });

    await step(pages, 'revoke, then refused', async () => {
      const grant = patient.locator(`[data-testid="grant"][data-grantee="${clinicAddress}" i]`);
      await grant.getByRole('button', { name: 'Revoke' }).click();
      await expect.poll(() => patient.locator(`[data-testid="grant"][data-grantee="${clinicAddress}" i]`).count(), { timeout: 30_000 }).toBe(0);
      const again = await read('labs');
      expect(again.state).toBe('failed');
      expect(again.text).toMatch(/No grant/);
    });

    await step(pages, 'a new grant, then expiry by chain time', async () => {
      await clinic.getByLabel('Patient address').fill(patientAddress);
      await clinic.getByLabel('labs', { exact: true }).check();
      await clinic.getByLabel('Duration (days)').fill('7');
      await clinic.getByRole('button', { name: 'Request access' }).click();
      await expect.poll(() => clinic.getByTestId('request-result').textContent(), { timeout: 30_000 }).toMatch(/Request #2 sent/);
      const card = patient.getByTestId('access-request').filter({ hasText: 'Request #2' });
      await card.waitFor({ timeout: 30_000 });
      await card.getByRole('button', { name: 'Approve' }).click();
      await patient.locator(`[data-testid="grant"][data-grantee="${clinicAddress}" i]`).waitFor({ timeout: 30_000 });
      await expect.poll(async () => (await read('labs')).state, { timeout: 30_000 }).toBe('done');
      const client = publicClientFor(stack.rpcUrl, CHAIN_ID);
      await client.request({ method: 'evm_increaseTime' as never, params: [8 * DAY] as never });
      await client.request({ method: 'evm_mine' as never, params: [] as never });
      const expired = await read('labs');
      expect(expired.state).toBe('failed');
      expect(expired.text).toMatch(/expired/);
    });

    await step(pages, 'the access log shows each read, proven', async () => {
      // Two successful reads (labs after the first grant, labs after the second); each was released
      // by at least k = 2 gateways, and the gateways post their log roots every second here.
      const log = patient.getByTestId('access-log');
      await expect
        .poll(async () => log.locator('[data-testid="access-read"][data-status="proven"]').count(), { timeout: 60_000 })
        .toBe(2);
      const reads = await log.locator('[data-testid="access-read"]').allTextContents();
      expect(reads.every((t) => t.includes('labs'))).toBe(true);
      expect(await log.locator('[data-status="altered"]').count()).toBe(0);
      expect(await patient.getByTestId('access-log-missing').count()).toBe(0);
    });

    // The clinic's browser never sent a record's plaintext anywhere.
    expect(clinicSent.join('\n')).not.toContain(LAB_MARKER);
    expect(clinicSent.join('\n')).not.toContain(NOTE_MARKER);
  }, 600_000);
});
