/**
 * "My records" in Chromium against the whole running stack (anvil, contracts, indexer, anchorer,
 * built web app): upload FHIR files (progress, per-resource errors), view records by category,
 * history and correction, erasure, and the export download, which `consentry verify` accepts
 * offline and on chain. Throughout, the server receives no plaintext and no key: every request the
 * page makes, the vault database and the blob store are searched for plaintext markers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { bytesToHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCommittee } from '@consentry/sdk/access/release';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { toBase64 } from '@consentry/sdk/records/versions';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { Vault } from '../workers/src/records/vault.ts';
import type { Stack } from '../scripts/stack.ts';
import { startE2eStack } from './support/stack.ts';
import { gotoHydrated, launchChromium, withPage } from './support/browser.ts';

const CHAIN_ID = 31337;
const MARKER = 'ZEBRA-PLAINTEXT-MARKER-7Q4';
let stack: Stack;
let browser: Browser;
let workDir: string;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack({ ANCHOR_INTERVAL_MS: '1000' }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
});

/** Every file under a folder, as latin1 text (a marker in any encoding-agnostic byte form shows). */
function filesUnder(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: p, text: readFileSync(p).toString('latin1') });
    }
  };
  walk(dir);
  return out;
}

async function connectDevAccount(page: Page, index: number): Promise<void> {
  await page.getByLabel('Account', { exact: true }).selectOption(`dev-account-${index}`);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.getByRole('button', { name: 'Open my records' }).waitFor({ timeout: 15_000 });
}

describe('My records in Chromium', () => {
  it('uploads, views by category, corrects with history, erases, and exports a zip that verifies; no plaintext or key reaches the server', async () => {
    const account = ANVIL_ACCOUNTS[3]!;
    // Input: one synthetic patient, one resource carrying the marker, and two bad entries.
    const bundle = synthesizeBundles({ patients: 1, seed: 'e2e-records' })[0]!;
    const entries = [
      ...bundle.entry,
      { resource: { resourceType: 'Observation', id: 'marker-obs', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { text: MARKER }, valueQuantity: { value: 7.1, unit: '%' } } },
      { resource: { resourceType: 'Observation', id: 'bad-status', code: { text: 'no status' } } },
      { resource: { resourceType: 'Condition', id: 'bad-date', subject: { reference: 'Patient/x' }, onsetDateTime: 'last spring' } },
    ];
    const valid = bundle.entry.length + 1;
    const file = join(workDir, 'upload.json');
    writeFileSync(file, JSON.stringify({ ...bundle, entry: entries }));

    const wallet = walletClientFor(stack.rpcUrl, CHAIN_ID, account.privateKey);
    const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(CHAIN_ID)));
    const secrets = [bytesToHex(keys.secretKey).slice(2), toBase64(keys.secretKey)];

    await withPage(browser, shotsDir, 'records', async (page) => {
      const sent: string[] = [];
      page.on('request', (r) => sent.push(`${r.method()} ${r.url()}\n${r.postData() ?? ''}`));
      await gotoHydrated(page, `${stack.webUrl}/records`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('My records');
      await connectDevAccount(page, 3);
      await page.getByRole('button', { name: 'Open my records' }).click();
      await page.getByRole('heading', { name: 'Upload FHIR files' }).waitFor({ timeout: 20_000 });

      // Upload with progress; each bad resource is reported by location; the good ones go in.
      await page.getByLabel('FHIR R4 Bundles (.json) or Bulk Data NDJSON (.ndjson)').setInputFiles(file);
      await page.getByRole('button', { name: 'Encrypt and upload' }).click();
      await expect.poll(() => page.getByTestId('upload-progress').getAttribute('data-stage'), { timeout: 60_000 }).toBe('done');
      expect(await page.getByTestId('import-summary').textContent()).toBe(`${valid} stored, 0 already stored, 2 rejected.`);
      const errors = await page.getByTestId('import-errors').locator('li').allTextContents();
      expect(errors).toHaveLength(2);
      expect(errors[0]).toContain(`upload.json#entry[${valid}]`);
      expect(errors[0]).toMatch(/status/);
      expect(errors[1]).toContain(`upload.json#entry[${valid + 1}]`);

      // Then the page splits every new record's key to the release committee, with progress.
      const sharing = page.getByTestId('committee-sharing');
      await expect.poll(() => sharing.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
      expect(await page.getByTestId('sharing-status').textContent()).toMatch(new RegExp(`^Shared with the release committee \\(epoch \\d+\\): ${valid} versions this time\\.$`));
      const committee = await readCommittee(publicClientFor(stack.rpcUrl, CHAIN_ID), stack.deployment.contracts.ReleaseCommittee!.address);
      expect(committee.members).toHaveLength(3);
      const vault = await Vault.open({ dataDir: join(workDir, 'data') });
      try {
        expect(await vault.versionsWithoutShares(account.address, committee.epoch, 1000)).toEqual([]);
        const uploaded = await vault.versions(account.address);
        expect(uploaded).toHaveLength(valid);
        for (const v of uploaded) {
          for (const m of committee.members) expect(await vault.shareFor(v.recordId, v.version, m.id, committee.epoch), `${v.recordId} ${m.id}`).not.toBeNull();
        }
      } finally {
        await vault.close();
      }

      // Records grouped by category, decrypted in the page; then anchored by the anchorer.
      await expect.poll(() => page.getByTestId('record-row').count(), { timeout: 20_000 }).toBe(valid);
      const labs = page.getByTestId('category-labs');
      expect(await labs.getByRole('heading').textContent()).toMatch(/labs/);
      const markerRow = page.getByTestId('record-row').filter({ hasText: MARKER });
      await expect.poll(() => markerRow.count(), { timeout: 20_000 }).toBe(1);
      expect(await markerRow.getAttribute('data-category')).toBe('labs');
      await expect
        .poll(async () => (await page.getByTestId('anchor-status').allTextContents()).every((t) => t === 'anchored'), { timeout: 40_000 })
        .toBe(true);

      // Correct the marker record: a new version with a reason; the history keeps both.
      await markerRow.getByRole('button', { name: 'Correct' }).click();
      const json = markerRow.getByLabel('Corrected FHIR resource (JSON)');
      const corrected = (await json.inputValue()).replace('7.1', '6.4');
      await json.fill(corrected);
      await markerRow.getByLabel('Reason for the correction').fill('Transcription error in the HbA1c value');
      await markerRow.getByRole('button', { name: 'Save correction' }).click();
      await expect.poll(() => markerRow.textContent(), { timeout: 20_000 }).toContain('v2');
      await markerRow.getByRole('button', { name: 'History' }).click();
      const versions = markerRow.getByTestId('history-version');
      await expect.poll(() => versions.count(), { timeout: 20_000 }).toBe(2);
      expect(await versions.nth(0).textContent()).toContain('"value": 7.1');
      expect(await versions.nth(1).textContent()).toContain('reason: Transcription error in the HbA1c value');
      expect(await versions.nth(1).textContent()).toContain('"value": 6.4');

      // Erase a medication record, after confirming.
      const medication = page.getByTestId('category-medications').getByTestId('record-row').first();
      const medicationId = await medication.getAttribute('data-record-id');
      await medication.getByRole('button', { name: 'Erase' }).click();
      await medication.getByLabel('Reason for the erasure').fill('Patient request');
      expect(await medication.getByRole('button', { name: 'Erase permanently' }).isDisabled()).toBe(true);
      await medication.getByLabel('I understand this cannot be undone').check();
      await medication.getByRole('button', { name: 'Erase permanently' }).click();
      const erasedRow = page.locator(`[data-record-id="${medicationId}"]`);
      await expect.poll(() => erasedRow.getAttribute('data-erased'), { timeout: 20_000 }).toBe('true');
      expect(await erasedRow.textContent()).toContain('Patient request');

      // Export: wait until the correction is anchored too, then download and verify the zip.
      await expect
        .poll(async () => (await page.getByTestId('anchor-status').allTextContents()).every((t) => t === 'anchored'), { timeout: 40_000 })
        .toBe(true);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('export-button').click()]);
      const zip = join(workDir, 'export.zip');
      await download.saveAs(zip);
      const verify = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'consentry.mjs'), 'verify', zip, '--rpc-url', stack.rpcUrl], {
        encoding: 'utf8',
        env: { ...process.env, CHAIN_ID: String(CHAIN_ID) },
      });
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(new RegExp(`verify: OK · ${valid} records, ${valid + 1} versions, ${valid + 1} with valid inclusion proofs, \\d+ root\\(s\\) confirmed on chain`));

      // At phone width nothing spills sideways, history open and all.
      await page.setViewportSize({ width: 390, height: 844 });
      await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

      // Nothing the page sent carried plaintext or the key.
      expect(sent.filter((r) => r.startsWith('POST') && r.includes('/api/records')).length).toBeGreaterThanOrEqual(2);
      for (const r of sent) {
        expect(r).not.toContain(MARKER);
        expect(r).not.toContain('"valueQuantity"');
        expect(r).not.toContain('Transcription error'); // reasons travel sealed too
        for (const s of secrets) expect(r.toLowerCase()).not.toContain(s.toLowerCase());
      }
    });

    // …nor anything the server stored (vault database, blob store, session files).
    const stored = filesUnder(join(workDir, 'data')).filter((f) => !f.path.endsWith('anvil-state.json'));
    expect(stored.some((f) => f.path.endsWith('records.sqlite'))).toBe(true);
    expect(stored.filter((f) => f.text.includes(MARKER)).map((f) => f.path)).toEqual([]);
    expect(stored.filter((f) => f.text.includes('"resourceType":"Observation"')).map((f) => f.path)).toEqual([]);
  }, 300_000);
});
