/**
 * The Access Simulator in Chromium against the whole stack (anvil, contracts, indexer, three release
 * gateways k = 2, anchorer, built web app) on a plain chain: nobody seeded it, so its first step
 * registers the organisations and the local accreditor accredits them. Every step is clicked and
 * its visible outcome checked: a transaction hash for each on-chain step, the pending request from
 * the index, the lab decrypted in the page, the gateways' refusals in words, an audit entry, the
 * break-glass notice; no request the page makes carries the records' plaintext. Then "Start over"
 * ends the run's access, and at 390 px the two panes stack.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.ts';
import { gotoHydrated, launchChromium, PHONE, withPage } from './support/browser.ts';
import { startE2eStack } from './support/stack.ts';

let stack: Stack;
let browser: Browser;
let workDir: string;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const HASH = /^0x[0-9a-f]{64}$/;

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack({ ANCHOR_INTERVAL_MS: '1000', GATEWAY_LOG_INTERVAL_MS: '1000' }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
});

/** Clicks "Next" for step `id` and waits for its panel; a failure shows the page's words. */
async function runStep(page: Page, id: string, timeoutMs = 90_000) {
  const next = page.getByTestId('sim-next');
  expect(await next.getAttribute('data-step')).toBe(id);
  expect(await next.textContent()).toMatch(/^Next: /);
  await next.click();
  const panel = page.getByTestId(`step-${id}`);
  const problem = page.getByTestId('sim-problem');
  await expect
    .poll(async () => ((await problem.count()) > 0 ? `problem: ${await problem.textContent()}` : (await panel.count()) > 0 ? 'done' : 'running'), { timeout: timeoutMs, interval: 250 })
    .toBe('done');
  return panel;
}

async function txHashes(panel: ReturnType<Page['getByTestId']>): Promise<string[]> {
  return panel.getByTestId('tx-hash').allTextContents();
}

describe('Access Simulator in Chromium', () => {
  it('walks the whole clinical flow with real transactions, releases and refusals', async () => {
    await withPage(browser, shotsDir, 'simulator', async (page) => {
      const sent: string[] = [];
      page.on('request', (r) => sent.push(`${r.method()} ${r.url()}\n${r.postData() ?? ''}`));
      await gotoHydrated(page, `${stack.webUrl}/simulator`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Access Simulator');
      await page.getByTestId('sim-next').waitFor({ timeout: 30_000 });
      expect(await page.getByText('Local chain only.').count()).toBe(1);

      // 0: on a plain chain the organisations register and the local accreditor accredits them.
      const prepare = await runStep(page, 'prepare');
      const prepared = await txHashes(prepare);
      expect(prepared).toHaveLength(6);
      for (const h of prepared) expect(h).toMatch(HASH);
      expect(await prepare.textContent()).toContain('Accredit (local accreditor)');

      // 1: the patient registers, uploads three synthetic records and shares their keys.
      const upload = await runStep(page, 'upload', 120_000);
      expect(await txHashes(upload)).toHaveLength(1);
      expect(await page.getByTestId('patient-records').locator('li').count()).toBe(3);

      // 2: the clinic asks; 3: the patient's pane shows it from the index.
      const request = await runStep(page, 'request');
      expect((await txHashes(request))[0]).toMatch(HASH);
      expect(await request.textContent()).toContain('RequestCreated');
      await runStep(page, 'notify');
      expect(await page.getByTestId('pending-request').textContent()).toMatch(/asks for labs and mental-health for 30 days/i);

      // 4: approval of labs only; the chain now says labs are live for the clinic.
      const approve = await runStep(page, 'approve');
      expect((await txHashes(approve))[0]).toMatch(HASH);
      expect((await page.getByTestId('chain-now').getByTestId('live-categories').allTextContents())[0]).toBe('labs');

      // 5: the lab is released by the gateways and decrypted in the page.
      await runStep(page, 'read');
      const lab = page.getByTestId('decrypted-lab');
      expect(await lab.textContent()).toMatch(/HbA1c|Hemoglobin A1c/);
      expect(await lab.textContent()).toContain('7.2 %');
      expect(await page.getByTestId('released-by').locator('li').count()).toBeGreaterThanOrEqual(2);

      // 6: the mental-health note is refused in the gateways' words.
      await runStep(page, 'refused');
      expect(await page.getByTestId('refusal-mental-health').textContent()).toMatch(/does not cover/i);

      // 7: revocation; 8: the next lab read is refused.
      const revoke = await runStep(page, 'revoke');
      expect((await txHashes(revoke))[0]).toMatch(HASH);
      await runStep(page, 'refused-after-revoke');
      expect(await page.getByTestId('refusal-after-revoke').textContent()).toMatch(/No grant/);

      // 9: the audit trail shows the clinic's read.
      await runStep(page, 'audit', 120_000);
      const audit = await page.getByTestId('audit-entries').locator('li').allTextContents();
      expect(audit.length).toBeGreaterThanOrEqual(1);
      expect(audit.some((t) => /Riverside Clinic \(simulator\) read .*labs/.test(t))).toBe(true);

      // 10: break-glass: the emergency department reads the medication; the patient sees it.
      const glass = await runStep(page, 'break-glass');
      expect((await txHashes(glass))[0]).toMatch(HASH);
      expect(await glass.textContent()).toContain('BreakGlassOpened');
      expect(await page.getByTestId('break-glass-notice').textContent()).toMatch(/Opened .*medications/);
      expect(await page.getByTestId('decrypted-medication').textContent()).toContain('Metformin');

      // 11: the patient bans insurers; the insurer is refused before any request exists.
      const policy = await runStep(page, 'policy');
      expect((await txHashes(policy))[0]).toMatch(HASH);
      expect(await page.getByTestId('refusal-policy').textContent()).toMatch(/refuses every insurer/);
      expect(await page.getByTestId('sim-next').count()).toBe(0);

      // Plaintext never left the page: no request body carries the records' content.
      for (const marker of ['Metformin', 'F32.9', 'low mood', '"valueQuantity"']) {
        expect(sent.filter((s) => s.includes(marker)), marker).toEqual([]);
      }

      // Start over: the same accounts, the last run's access ended on chain, the next step uploads anew.
      await page.getByTestId('sim-start-over').click();
      await expect.poll(async () => page.getByTestId('sim-next').getAttribute('data-step'), { timeout: 60_000 }).toBe('upload');
      const resets = await page.getByTestId('tx-hash').allTextContents();
      expect(resets.length).toBeGreaterThanOrEqual(2); // close break-glass, lift the policy
      expect((await page.getByTestId('live-categories').count())).toBe(0);
    });
  }, 600_000);

  it('stacks the two panes at 390 px', async () => {
    await withPage(
      browser,
      shotsDir,
      'simulator-phone',
      async (page) => {
        await gotoHydrated(page, `${stack.webUrl}/simulator`);
        await page.getByTestId('sim-next').waitFor({ timeout: 30_000 });
        const patient = await page.getByTestId('pane-patient').boundingBox();
        const clinician = await page.getByTestId('pane-clinician').boundingBox();
        expect(patient && clinician).toBeTruthy();
        expect(clinician!.y).toBeGreaterThanOrEqual(patient!.y + patient!.height);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width).toBeLessThanOrEqual(390);
      },
      PHONE,
    );
  });
});
