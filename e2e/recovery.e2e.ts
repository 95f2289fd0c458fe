/**
 * Key loss and recovery in Chromium against the whole running stack (issue 9's done-when), with six
 * browser contexts: a patient with records (development account 7, then 8), three guardians (1, 2, 3)
 * and the patient's new wallet (4, then 5).
 *   With guardians: the patient ticks the risks checklist, names 3 guardians (t = 2; a wallet that never
 *   signed up is refused in words) and backs her key up to them; she "loses" her wallet; the new wallet
 *   asks (account → recovery key → link); guardian 1 starts, and one guardian alone cannot complete (the
 *   button is disabled with the reason in words, and the chain refuses); guardian 2 approves; the old
 *   wallet sees the notice on /patient and cancels in time: the account stays hers, and after the wait
 *   there is nothing to complete. Then again: guardian 1 starts, guardian 2 approves, the chain's clock
 *   moves 48 h on, the new wallet completes, the guardians release their shares, and the new wallet
 *   signs in again, restores the key, rotates (n of N; run again, nothing left to do) and reads every
 *   record on /records.
 *   With the paper phrase: the patient prints her 24 words (print view shows them alone); the recovery
 *   runs as before with no release, the new wallet restores from the words and reads her records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Address, PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { revertOf } from '@consentry/sdk/access/actions';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { describeResource } from '@consentry/sdk/records/describe';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { demoHistory, seedDemoRecords } from '../scripts/demo.ts';
import type { Stack } from '../scripts/stack.ts';
import { connectDevAccount, gotoHydrated, journeySteps, launchChromium, openPage, pinBuildAssets, seriousA11yViolations } from './support/browser.ts';
import { advanceChainTime, devAccountKeys, registerDevPatients } from './support/chain.ts';
import { E2E_CHAIN_ID, startE2eStack } from './support/stack.ts';

const GUARDIANS = [1, 2, 3] as const;
const NEVER_SIGNED_UP = 9;
const HOURS_48 = 48 * 3600;

let stack: Stack;
let browser: Browser;
let workDir: string;
let client: PublicClient;
let registry: Address;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));
const files = mkdtempSync(join(tmpdir(), 'consentry-e2e-recovery-'));
const assets = join(files, 'assets');
const contexts: BrowserContext[] = [];
const step = journeySteps('recovery', shotsDir);
const addressOf = (i: number) => ANVIL_ACCOUNTS[i]!.address;

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack());
  // The build the server loaded, kept aside: other work in this checkout may rebuild web/build meanwhile.
  pinBuildAssets(files);
  client = publicClientFor(stack.rpcUrl, E2E_CHAIN_ID) as PublicClient;
  registry = stack.deployment.contracts.PatientRegistry.address;
  // Patients 7 and 8 have their synthetic histories in their encrypted records; they and the guardians are signed up.
  [browser] = await Promise.all([launchChromium(), seedDemoRecords(stack, () => {}, [0, 1])]);
  await registerDevPatients(client, stack.rpcUrl, E2E_CHAIN_ID, registry, [7, 8, ...GUARDIANS]);
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
  rmSync(files, { recursive: true, force: true });
});

const open = (name: string) => openPage(browser, contexts, name, { assets, webUrl: stack.webUrl });

/** A page on /recovery (or `path`) with development account `index` connected. */
async function connected(name: string, index: number, path = '/recovery'): Promise<Page> {
  const page = await open(name);
  await gotoHydrated(page, `${stack.webUrl}${path}`);
  await connectDevAccount(page, index);
  return page;
}

const read = {
  controller: (account: Address) => client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'controllerOf', args: [account] }),
  accountOf: (wallet: Address) => client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'accountOf', args: [wallet] }),
  recovery: (account: Address) => client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'recoveryOf', args: [account] }),
  key: (account: Address) => client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'encryptionKeyOf', args: [account] }),
};

/** The custom error the chain answers `completeRecovery(account)` with, from anyone (account 0 here). */
async function completeRefusal(account: Address): Promise<string | undefined> {
  try {
    await client.simulateContract({ address: registry, abi: patientRegistryAbi, functionName: 'completeRecovery', args: [account], account: addressOf(0) });
    return undefined;
  } catch (err) {
    return revertOf(err)?.errorName;
  }
}

async function waitTx(page: Page, testId: string): Promise<void> {
  // The status may leave the page right after it confirms (the page moves on), so its last phase is kept as it is polled.
  const status = page.getByTestId(testId);
  let phase: string | null = null;
  let problem: string | null = null;
  await expect
    .poll(
      async () => {
        phase = await status.getAttribute('data-phase', { timeout: 200 }).catch(() => phase);
        if (phase === 'failed') problem = await page.getByTestId(`${testId}-error`).textContent({ timeout: 200 }).catch(() => null);
        return phase;
      },
      { timeout: 30_000, interval: 100 },
    )
    .toMatch(/confirmed|failed/);
  if (phase !== 'confirmed') throw new Error(`${testId}: ${problem}`);
}

/** The patient names guardians 1–3 with t = 2 and the default 48 h, after ticking the checklist. */
async function nameGuardians(page: Page, { tryUnsignedFirst }: { tryUnsignedFirst: boolean }): Promise<void> {
  const panel = page.getByTestId('guardians-panel');
  await panel.waitFor({ timeout: 20_000 });
  const submit = panel.getByRole('button', { name: 'Name these guardians' });
  expect(await submit.isDisabled()).toBe(true); // until every risk is ticked
  const checklist = panel.getByRole('group', { name: 'Before you choose, read and tick each point' });
  for (const box of await checklist.getByRole('checkbox').all()) await box.check();
  expect(await submit.isDisabled()).toBe(false);
  for (const [i, g] of GUARDIANS.entries()) await panel.getByLabel(`Guardian ${i + 1}`, { exact: true }).fill(addressOf(g));
  expect(await panel.getByLabel('Approvals needed (threshold)').inputValue()).toBe('2');
  expect(await panel.getByLabel('Waiting period before a recovery can complete (hours)').inputValue()).toBe('48');
  if (tryUnsignedFirst) {
    await panel.getByLabel('Guardian 3', { exact: true }).fill(addressOf(NEVER_SIGNED_UP));
    await submit.click();
    expect(await panel.getByTestId('guardian-problems').textContent()).toMatch(/Guardian 3 \(0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}\) has no Consentry key: ask them to sign up/);
    await panel.getByLabel('Guardian 3', { exact: true }).fill(addressOf(3));
  }
  await submit.click();
  await waitTx(page, 'guardians-status');
  await expect.poll(() => panel.getByTestId('current-guardians').textContent(), { timeout: 10_000 }).toContain(addressOf(3));
  expect(await panel.getByTestId('current-guardians').textContent()).toMatch(/Any 2 of these 3 guardians can move your account to a new wallet, after a wait of 2 days/);
}

/** The new wallet asks for `account`: its recovery key and the link for the guardians. */
async function askForRecovery(page: Page, account: Address): Promise<{ link: string; recoveryKey: string }> {
  const panel = page.getByTestId('lost-wallet-panel');
  await panel.getByLabel('Your account address (the wallet you lost)').fill(account);
  await panel.getByRole('button', { name: 'Continue' }).click();
  await panel.getByRole('button', { name: 'Make my recovery key (a free signature)' }).click();
  const recoveryKey = (await panel.getByTestId('recovery-key').textContent({ timeout: 20_000 }))!;
  const link = await panel.getByTestId('recovery-link').inputValue();
  expect(link).toContain(`account=${account}`);
  expect(link).toContain(`recoveryKey=${recoveryKey}`);
  return { link, recoveryKey };
}

/** A guardian opens the link and starts the recovery, or approves the one under way. */
async function guardianActs(page: Page, link: string, action: 'Start the recovery' | 'Approve'): Promise<void> {
  await gotoHydrated(page, link);
  const account = page.getByTestId('guarded-account');
  await account.waitFor({ timeout: 20_000 });
  const button = account.getByRole('button', { name: action, exact: true });
  await button.waitFor({ timeout: 20_000 });
  expect(await button.isDisabled()).toBe(true); // until the guardian says they spoke to the holder
  await account.getByLabel(/I spoke to the account holder/).check();
  await button.click();
  await waitTx(page, 'guardian-tx-status');
}

/** The recovery is quorate and its 48 h have passed: the new wallet completes it. */
async function waitAndComplete(newWallet: Page, account: Address, wallet: Address): Promise<void> {
  const progress = newWallet.getByTestId('recovery-progress');
  await expect.poll(() => progress.getAttribute('data-state'), { timeout: 20_000 }).toBe('waiting');
  expect(await progress.textContent()).toMatch(/Enough guardians approved\. The waiting period ends .* \(in 4[78] h \d+ min\); until then your old wallet can cancel\./);
  expect(await newWallet.getByRole('button', { name: 'Complete the recovery' }).isDisabled()).toBe(true);
  expect(await completeRefusal(account)).toBe('PatientRegistry__RecoveryNotReady');
  await advanceChainTime(client, HOURS_48 + 60);
  await expect.poll(() => progress.getAttribute('data-state'), { timeout: 20_000 }).toBe('ready');
  await newWallet.getByRole('button', { name: 'Complete the recovery' }).click();
  // Once the chain shows it complete the page moves on to the restore step; the status may not stay in view.
  await expect.poll(() => read.controller(account), { timeout: 30_000 }).toBe(wallet);
  expect(await newWallet.getByTestId('complete-status-error').count()).toBe(0);
  expect(await read.accountOf(wallet)).toBe(account);
}

/** After the restore: sign in again, rotate (n of N), and once more (nothing left), then read every record on /records. */
async function rotateAndRead(page: Page, account: Address, newIndex: number, history: readonly FhirResource[]): Promise<void> {
  const records = history.length;
  const panel = page.getByTestId('restore-panel');
  const newKeys = await devAccountKeys(stack.rpcUrl, E2E_CHAIN_ID, newIndex);
  // Every text the rotation's status shows, in order, collected in the page as it changes.
  await page.evaluate(() => {
    const texts: string[] = [];
    (window as unknown as { rotationTexts: string[] }).rotationTexts = texts;
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="rotation-status"]')?.textContent ?? '';
      if (t && texts.at(-1) !== t) texts.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await panel.getByRole('button', { name: 'Rotate my key and re-seal my records' }).click();
  const rotation = panel.getByTestId('rotation');
  await expect.poll(() => rotation.getAttribute('data-stage'), { timeout: 60_000 }).toMatch(/done|failed/);
  if ((await rotation.getAttribute('data-stage')) === 'failed') throw new Error(`rotation failed: ${await panel.getByTestId('rotation-error').textContent()}`);
  expect(await panel.getByTestId('rotation-status').textContent()).toBe(`Done: all ${records} record versions open with this wallet's key (${records} re-sealed now, 0 already were).`);
  const texts = await page.evaluate(() => (window as unknown as { rotationTexts: string[] }).rotationTexts);
  expect(texts).toContainEqual(expect.stringMatching(/^Naming the new key on chain: (transaction pending…|confirmed in block \d+\.)$/));
  expect(texts).toContain(`Re-sealing your records: 0 of ${records}`);
  expect((await read.key(account)).toLowerCase()).toBe(newKeys.publicKeyHex.toLowerCase());
  // Resumable: running it again finds everything done.
  await panel.getByRole('button', { name: 'Rotate my key and re-seal my records' }).click();
  await expect.poll(() => panel.getByTestId('rotation-status').textContent(), { timeout: 30_000 }).toBe(`Done: all ${records} record versions open with this wallet's key (0 re-sealed now, ${records} already were).`);

  // /records lists and opens the account's records with the new wallet.
  await gotoHydrated(page, `${stack.webUrl}/records`);
  await page.getByRole('button', { name: 'Open my records' }).click();
  await expect.poll(() => page.getByTestId('records-summary').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^${records} records, \\d+ anchored on chain$`));
  await expect.poll(() => page.getByTestId('record-row').count(), { timeout: 20_000 }).toBe(records);
  expect(await page.getByText('Decryption failed').count()).toBe(0);
  // Each row shows its decrypted description, the same as the history seeded for the account.
  const expected = history.map((r) => describeResource(r).title).sort();
  await expect.poll(async () => (await page.locator('.record-title').allTextContents()).sort(), { timeout: 20_000 }).toEqual(expected);
}

describe('key loss and recovery in Chromium', () => {
  it('guardians: set up and back up; one guardian alone cannot complete; the old wallet cancels a quorum in time; then two guardians recover the account, release their shares, and the new wallet reads every record', async () => {
    const account = addressOf(7);
    const newWallet = addressOf(4);
    const patient = await connected('patient', 7);
    const [g1, g2, g3] = (await Promise.all(GUARDIANS.map((g) => connected(`guardian ${g}`, g)))) as [Page, Page, Page];

    await step(patient, 'guardians', async () => {
      await nameGuardians(patient, { tryUnsignedFirst: true });
      const [guardians, threshold, delay] = await client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'guardiansOf', args: [account] });
      expect(guardians).toEqual(GUARDIANS.map(addressOf));
      expect([threshold, delay]).toEqual([2, HOURS_48]);
    });

    await step(patient, 'backup', async () => {
      const status = patient.getByTestId('backup-status');
      await expect.poll(() => status.getAttribute('data-state'), { timeout: 20_000 }).toBe('none');
      await patient.getByRole('button', { name: 'Back up my key to my guardians' }).click();
      await expect.poll(() => status.getAttribute('data-state'), { timeout: 30_000 }).toBe('current');
      expect(await status.textContent()).toMatch(/^Backed up on .+ to 3 guardians \(any 2 can restore your key\)\.$/);
      const stored = (await (await fetch(`${stack.webUrl}/api/recovery/backup?account=${account}`)).json()) as { threshold: number; shares: Array<{ guardian: string }> };
      expect(stored.threshold).toBe(2);
      expect(stored.shares.map((s) => s.guardian.toLowerCase()).sort()).toEqual(GUARDIANS.map((g) => addressOf(g).toLowerCase()).sort());
    });

    // The guardians see the account among those they guard.
    await step(g3, 'guarded', async () => {
      await expect.poll(() => g3.getByTestId('guarded-accounts').textContent(), { timeout: 20_000 }).toContain(account);
    });

    // She "loses" her wallet: a new wallet asks.
    const asker = await connected('new wallet', 4);
    const { link } = await step(asker, 'ask', () => askForRecovery(asker, account));

    await step(g1, 'one guardian alone', async () => {
      await guardianActs(g1, link, 'Start the recovery');
      const progress = asker.getByTestId('recovery-progress');
      await expect.poll(() => progress.getAttribute('data-state'), { timeout: 20_000 }).toBe('approving');
      expect(await progress.textContent()).toBe('1 of the 2 guardian approvals needed are in: it cannot be completed until 1 more approve.');
      expect(await asker.getByRole('button', { name: 'Complete the recovery' }).isDisabled()).toBe(true);
      expect(await completeRefusal(account)).toBe('PatientRegistry__NotEnoughApprovals');
      // Even with all the time in the world, one approval is not enough.
      await advanceChainTime(client, HOURS_48 + 60);
      expect(await completeRefusal(account)).toBe('PatientRegistry__NotEnoughApprovals');
      expect(await read.controller(account)).toBe(account);
    });

    await step(patient, 'cancelled in time', async () => {
      await guardianActs(g2, link, 'Approve');
      expect((await read.recovery(account)).approvalCount).toBe(2);
      // The patient's notice, on /patient, while she still holds her old wallet; she cancels.
      await gotoHydrated(patient, `${stack.webUrl}/patient`);
      const banner = patient.getByTestId('recovery-banner');
      await expect.poll(() => banner.getAttribute('data-state'), { timeout: 20_000 }).toBe('active');
      expect(await banner.textContent()).toMatch(/A recovery of your account is under way.*2 of the 2 approvals it needs are in/);
      await banner.getByRole('button', { name: 'Cancel this recovery' }).click();
      await waitTx(patient, 'cancel-recovery-status');
      await expect.poll(() => banner.getAttribute('data-state'), { timeout: 20_000 }).toBe('cancelled');
      expect((await read.recovery(account)).nonce).toBe(0n);
      await advanceChainTime(client, HOURS_48 + 60);
      expect(await completeRefusal(account)).toBe('PatientRegistry__NoActiveRecovery');
      expect(await read.controller(account)).toBe(account);
      expect(await read.accountOf(newWallet)).toBe('0x0000000000000000000000000000000000000000');
      await expect.poll(() => asker.getByTestId('recovery-progress').getAttribute('data-state'), { timeout: 20_000 }).toBe('none');
    });

    await step(asker, 'recovered', async () => {
      await guardianActs(g1, link, 'Start the recovery');
      await guardianActs(g2, link, 'Approve');
      await waitAndComplete(asker, account, newWallet);
      expect(await read.accountOf(account)).toBe('0x0000000000000000000000000000000000000000'); // the old wallet acts for nothing now
    });

    await step(asker, 'released', async () => {
      const restore = asker.getByTestId('restore-panel');
      await restore.waitFor({ timeout: 20_000 });
      await expect.poll(() => restore.getByTestId('released-count').textContent(), { timeout: 10_000 }).toMatch(/^0 of the 2 shares needed/);
      for (const g of [g1, g2]) {
        await gotoHydrated(g, link);
        const guarded = g.getByTestId('guarded-account');
        await guarded.getByRole('button', { name: 'Release my share' }).click();
        await expect.poll(() => guarded.getByTestId('release-status').getAttribute('data-state'), { timeout: 30_000 }).toBe('released');
      }
      await expect.poll(() => restore.getByTestId('released-count').textContent(), { timeout: 10_000 }).toMatch(/^2 of the 2 shares needed/);
    });

    await step(asker, 'restored and rotated', async () => {
      const restore = asker.getByTestId('restore-panel');
      await restore.getByRole('button', { name: 'Sign in again' }).click();
      await restore.getByTestId('signed-in').waitFor({ timeout: 20_000 });
      await restore.getByRole('button', { name: "Restore from my guardians' shares" }).click();
      await expect.poll(() => restore.getByTestId('restore-status').getAttribute('data-state').catch(() => null), { timeout: 20_000 }).toBe('restored');
      await rotateAndRead(asker, account, 4, demoHistory(0));
    });

    await step(asker, 'afterwards', async () => {
      // The backup was made of the old key: the page says it is out of date.
      await gotoHydrated(asker, `${stack.webUrl}/recovery`);
      const backup = asker.getByTestId('backup-status');
      await expect.poll(() => backup.getAttribute('data-state'), { timeout: 20_000 }).toBe('stale');
      expect(await backup.textContent()).toMatch(/is out of date: your encryption key changed after it was made\. Make a new one\./);
      // /patient speaks of the account the new wallet acts for.
      await gotoHydrated(asker, `${stack.webUrl}/patient`);
      await expect.poll(() => asker.getByTestId('patient-account').getAttribute('title'), { timeout: 20_000 }).toBe(account);
      // The old wallet acts for nothing any more: its pages say where the account went, and it cannot sign in as it.
      await gotoHydrated(patient, `${stack.webUrl}/records`);
      await expect.poll(() => patient.getByTestId('account-moved').textContent(), { timeout: 20_000 }).toContain(newWallet);
      await gotoHydrated(patient, `${stack.webUrl}/recovery`);
      await expect.poll(() => patient.getByTestId('account-moved').textContent(), { timeout: 20_000 }).toContain(newWallet);
      expect(await patient.getByTestId('lost-wallet-panel').count()).toBe(0);
      const old = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[7]!.privateKey);
      const issuedAt = Math.floor(Date.now() / 1000);
      const signature = await old.signTypedData(sessionTypedData(E2E_CHAIN_ID, account, issuedAt));
      const refused = await fetch(`${stack.webUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: account, issuedAt, signature }) });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ACCOUNT_RECOVERED');
    });
  }, 420_000);

  it('paper backup: the patient prints her 24 words; after two guardians recover her account the new wallet restores from them, rotates and reads every record', async () => {
    const account = addressOf(8);
    const newWallet = addressOf(5);
    const patient = await connected('paper patient', 8);
    const [g1, g2] = await Promise.all([connected('paper guardian 1', 1), connected('paper guardian 2', 2)]);

    await step(patient, 'guardians', () => nameGuardians(patient, { tryUnsignedFirst: false }));

    const words = await step(patient, 'paper', async () => {
      const panel = patient.getByTestId('paper-panel');
      const show = panel.getByRole('button', { name: 'Show my paper backup' });
      expect(await show.isDisabled()).toBe(true); // behind a confirmation
      await panel.getByLabel(/Nobody can see my screen/).check();
      await show.click();
      const list = panel.getByTestId('paper-words').locator('li');
      await expect.poll(() => list.count(), { timeout: 20_000 }).toBe(24);
      const words = await list.allTextContents();
      // Printing shows the words and nothing else of the page.
      await patient.evaluate(() => {
        (window as unknown as { printed: number }).printed = 0;
        window.print = () => void ((window as unknown as { printed: number }).printed += 1);
      });
      await panel.getByRole('button', { name: 'Print' }).click();
      expect(await patient.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
      await patient.emulateMedia({ media: 'print' });
      expect(await patient.getByTestId('paper-backup').isVisible()).toBe(true);
      for (const hidden of ['.site-header', '[data-testid="guardians-panel"]', '[data-testid="account-panel"]']) expect(await patient.locator(hidden).isVisible(), hidden).toBe(false);
      expect(await panel.getByRole('button', { name: 'Print' }).isVisible()).toBe(false);
      await patient.emulateMedia({ media: 'screen' });
      expect(await seriousA11yViolations(patient)).toEqual([]);
      return words.join(' ');
    });

    const asker = await connected('paper new wallet', 5);
    const { link } = await step(asker, 'ask', async () => {
      const asked = await askForRecovery(asker, account);
      // At phone width the recovery key and the link wrap instead of widening the page.
      await asker.setViewportSize({ width: 390, height: 844 });
      await expect.poll(() => asker.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await asker.setViewportSize({ width: 1280, height: 800 });
      return asked;
    });
    await step(asker, 'recovered', async () => {
      await guardianActs(g1, link, 'Start the recovery');
      await guardianActs(g2, link, 'Approve');
      await waitAndComplete(asker, account, newWallet);
    });

    await step(asker, 'restored from paper and rotated', async () => {
      const restore = asker.getByTestId('restore-panel');
      await restore.waitFor({ timeout: 20_000 });
      await restore.getByRole('button', { name: 'Sign in again' }).click();
      await restore.getByTestId('signed-in').waitFor({ timeout: 20_000 });
      // No guardian released anything: the paper alone restores the key. A word short is refused in words first.
      expect(await restore.getByTestId('released-count').textContent()).toMatch(/^0 of the 2 shares needed/);
      const box = restore.getByLabel('Your 24 words, in order');
      await box.fill(words.split(' ').slice(0, 23).join(' '));
      await restore.getByRole('button', { name: 'Restore from my paper backup' }).click();
      await expect.poll(() => restore.getByTestId('restore-error').textContent(), { timeout: 10_000 }).toBe('A paper backup has 24 words (got 23)');
      await box.fill(words);
      await restore.getByRole('button', { name: 'Restore from my paper backup' }).click();
      await expect.poll(() => restore.getByTestId('restore-status').getAttribute('data-state').catch(() => null), { timeout: 20_000 }).toBe('restored');
      await rotateAndRead(asker, account, 5, demoHistory(1));
    });
  }, 420_000);
});
