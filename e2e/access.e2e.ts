/**
 * The patient's Access page in Chromium on the whole stack, for what the two-browser clinical
 * journey (e2e/clinical.e2e.ts) does not drive: a request appears without reload and is denied;
 * an approval that would be empty is refused in words before any transaction; a break-glass window
 * opened from Node is shown and closed; the policy (Never share, Never allow) is saved and read back
 * from chain, and then refuses an insurer's request; the webhook is saved (secret shown once),
 * refused in words for a bad URL, and cleared; nothing spills sideways at 390 px.
 * Organisations act from Node with the sdk's actions (registered, accredited by anvil account 0).
 */
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import {
  accreditOrganization,
  breakGlass,
  readAccess,
  registerOrganization,
  requestAccess,
  type ActionContext,
  type OrganizationKind,
} from '@consentry/sdk/access/actions';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, gotoHydrated, launchChromium, PHONE, withPage } from './support/browser.ts';
import { E2E_CHAIN_ID as CHAIN_ID, startE2eStack } from './support/stack.ts';

const PATIENT = 2;
const CLINIC = 7;
const MEDIC = 8;
const INSURER = 9;
const DAY = 86_400;

let stack: Stack;
let browser: Browser;
let workDir: string;
let client: PublicClient;
let contracts: ActionContext['contracts'];
const ctxOf = (i: number): ActionContext => ({ wallet: walletClientFor(stack.rpcUrl, CHAIN_ID, ANVIL_ACCOUNTS[i]!.privateKey), client, contracts });
const patient = ANVIL_ACCOUNTS[PATIENT]!.address;

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack());
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
  if (workDir) rmSync(workDir, { recursive: true, force: true });
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
});
