/**
 * The patient sign-up journey in Chromium against the whole running stack: anvil, the deployed
 * PatientRegistry, the embedded indexer with its GraphQL endpoint, and the built web app.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { bytesToHex, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { graphqlRequest } from '@consentry/sdk/graphql';
import { deriveEncryptionKeyPair, keyDerivationTypedData, keyFingerprint } from '@consentry/sdk/keys';
import { freePort } from '@consentry/sdk/net';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import type { Stack } from '../scripts/stack.ts';
import { startE2eStack } from './support/stack.ts';
import { gotoHydrated, launchChromium, PHONE, withPage } from './support/browser.ts';

const CHAIN_ID = 31337;
let stack: Stack;
let browser: Browser;
let workDir: string;
const shotsDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-shots-'));

/** The key the app must derive for an account, computed here independently of the browser. */
async function expectedKey(privateKey: Hex) {
  const wallet = walletClientFor(stack.rpcUrl, CHAIN_ID, privateKey);
  const signature = await wallet.signTypedData(keyDerivationTypedData(CHAIN_ID));
  const pair = deriveEncryptionKeyPair(signature);
  return { signature, pair, fingerprint: keyFingerprint(pair.publicKey) };
}

/** Connects development account `index` through the connect panel on the patient page. */
async function connectDevAccount(page: Page, index: number): Promise<void> {
  await page.getByLabel('Account', { exact: true }).selectOption(`dev-account-${index}`);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  const address = ANVIL_ACCOUNTS[index]!.address;
  await expect
    .poll(() => page.getByTestId('wallet-connected').textContent(), { timeout: 15_000 })
    .toContain(`${address.slice(0, 6)}…${address.slice(-4)}`);
}

/** Records every value the sign-up progress's data-stage takes, however briefly. */
async function recordStages(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __stages: string[] }).__stages = seen;
    new MutationObserver(() => {
      const stage = document.querySelector('[data-testid="signup-progress"]')?.getAttribute('data-stage');
      if (stage && seen[seen.length - 1] !== stage) seen.push(stage);
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-stage'] });
  });
}

beforeAll(async () => {
  ({ stack, workDir } = await startE2eStack());
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); // the stopped stack may still be flushing into it
});

describe('patient sign-up in Chromium', () => {
  it('connects a development account, signs up, and shows "registered" with the key fingerprint from GraphQL', async () => {
    const account = ANVIL_ACCOUNTS[1]!;
    const expected = await expectedKey(account.privateKey);

    await withPage(browser, shotsDir, 'signup', async (page) => {
      const sent: string[] = [];
      page.on('request', (r) => sent.push(`${r.url()}\n${r.postData() ?? ''}`));
      await recordStages(page);

      await gotoHydrated(page, `${stack.webUrl}/`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Your medical records');
      const landing = (await page.textContent('main')) ?? '';
      expect(landing).toContain('research-data marketplace');
      for (const role of ['Patients', 'Clinicians', 'Researchers', 'IRB reviewers']) {
        expect(await page.getByRole('heading', { name: role, exact: true }).count()).toBe(1);
      }

      await page.getByRole('link', { name: 'Sign up as a patient' }).click();
      await page.waitForURL(`${stack.webUrl}/patient`);
      await connectDevAccount(page, 1);
      await expect
        .poll(() => page.getByTestId('patient-status').getAttribute('data-status'), { timeout: 15_000 })
        .toBe('unregistered');

      await page.getByRole('button', { name: 'Sign up as a patient' }).click();
      await expect
        .poll(() => page.getByTestId('patient-status').getAttribute('data-status'), { timeout: 45_000 })
        .toBe('registered');

      // The progress went signing → sending → pending (with hash) → confirmed; React may merge
      // the instant local-signing stages, but pending and confirmed are each shown.
      const stages = await page.evaluate(() => (window as unknown as { __stages: string[] }).__stages);
      const order = ['signing', 'sending', 'pending', 'confirmed'];
      expect(stages).toContain('pending');
      expect(stages).not.toContain('failed');
      expect(stages.at(-1)).toBe('confirmed');
      expect(stages.map((s) => order.indexOf(s))).toEqual([...stages.map((s) => order.indexOf(s))].sort());
      expect(await page.getByTestId('signup-progress').textContent()).toMatch(/^Confirmed in block \d+\. You are registered\.$/);

      // The fingerprint shown is the one read back through GraphQL, and it is this wallet's key.
      expect(await page.getByTestId('key-fingerprint').textContent()).toBe(expected.fingerprint);
      expect(await page.getByTestId('patient-status').textContent()).toContain('This browser holds the matching secret key');
      expect(sent.some((r) => r.startsWith(`${stack.webUrl}/graphql\n`))).toBe(true);

      const indexed = await graphqlRequest<{ patient: { encryptionKey: string } | null }>(
        stack.graphqlUrl,
        'query($id: ID!) { patient(id: $id) { encryptionKey } }',
        { id: account.address.toLowerCase() },
      );
      expect(indexed.patient?.encryptionKey).toBe(expected.pair.publicKeyHex);
      const onChain = await publicClientFor(stack.rpcUrl, CHAIN_ID).readContract({
        address: stack.deployment.contracts.PatientRegistry.address,
        abi: patientRegistryAbi,
        functionName: 'encryptionKeyOf',
        args: [account.address],
      });
      expect(onChain).toBe(expected.pair.publicKeyHex);

      // The secret key and the signature it comes from never left the page, nor were stored.
      const secrets = [bytesToHex(expected.pair.secretKey).slice(2), expected.signature.slice(2)];
      expect(sent.length).toBeGreaterThan(5);
      for (const s of secrets) expect(sent.filter((r) => r.toLowerCase().includes(s.toLowerCase()))).toEqual([]);
      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
      for (const s of secrets) expect(stored.toLowerCase()).not.toContain(s.toLowerCase());

      // A returning patient: after a reload the account reconnects and sees its status, no sign-up.
      await gotoHydrated(page, `${stack.webUrl}/patient`);
      await expect
        .poll(() => page.getByTestId('patient-status').getAttribute('data-status'), { timeout: 15_000 })
        .toBe('registered');
      expect(await page.getByTestId('key-fingerprint').textContent()).toBe(expected.fingerprint);
      expect(await page.getByRole('button', { name: 'Sign up as a patient' }).count()).toBe(0);
    });
  });

  it('shows "This wallet is already registered" in words when the wallet registered elsewhere meanwhile (phone width)', async () => {
    const account = ANVIL_ACCOUNTS[2]!;
    await withPage(
      browser,
      shotsDir,
      'already-registered',
      async (page) => {
        await gotoHydrated(page, `${stack.webUrl}/patient`);
        await connectDevAccount(page, 2);
        await expect
          .poll(() => page.getByTestId('patient-status').getAttribute('data-status'), { timeout: 15_000 })
          .toBe('unregistered');
        // Nothing spills sideways at phone width.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

        // The same wallet registers from another device while this page still offers sign-up.
        const { pair } = await expectedKey(account.privateKey);
        const wallet = walletClientFor(stack.rpcUrl, CHAIN_ID, account.privateKey);
        const hash = await wallet.writeContract({
          address: stack.deployment.contracts.PatientRegistry.address,
          abi: patientRegistryAbi,
          functionName: 'register',
          args: [pair.publicKeyHex],
        });
        await publicClientFor(stack.rpcUrl, CHAIN_ID).waitForTransactionReceipt({ hash });

        await page.getByRole('button', { name: 'Sign up as a patient' }).click();
        const error = page.getByTestId('signup-error');
        await error.waitFor({ timeout: 20_000 });
        expect(await error.textContent()).toBe('This wallet is already registered');
        expect(await error.getAttribute('role')).toBe('alert');
        const text = (await page.textContent('main')) ?? '';
        expect(text).not.toMatch(/0x[0-9a-f]{12,}/i);
        expect(text).not.toMatch(/\bat [\w.]+ \(|Error:|revert/i);
        // …and the page then shows the status the chain and the index agree on.
        await expect
          .poll(() => page.getByTestId('patient-status').getAttribute('data-status'), { timeout: 30_000 })
          .toBe('registered');
      },
      PHONE,
    );
  });

  it('says "Cannot reach the chain at …" when the browser\'s RPC is down', async () => {
    // A second web server over the same stack whose browsers are sent to an RPC where nothing listens.
    const deadRpc = `http://127.0.0.1:${await freePort()}`;
    const port = await freePort();
    const web: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'web', 'server.mjs')], {
      env: { ...process.env, ...stack.env, PUBLIC_RPC_URL: deadRpc, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((r) => web.once('exit', () => r()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the second web server did not start within 30 s')), 30_000);
        web.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('listening on')) {
            clearTimeout(timer);
            resolve();
          }
        });
        web.once('exit', (code) => reject(new Error(`the second web server exited (${code})`)));
      });

      await withPage(browser, shotsDir, 'rpc-down', async (page) => {
        await gotoHydrated(page, `http://127.0.0.1:${port}/patient`);
        await connectDevAccount(page, 3);
        await page.getByRole('button', { name: 'Sign up as a patient' }).click();
        const error = page.getByTestId('signup-error');
        await error.waitFor({ timeout: 30_000 });
        expect(await error.textContent()).toBe(`Cannot reach the chain at ${deadRpc}`);
        // The status read from the chain fails the same way, in words.
        await expect
          .poll(() => page.getByTestId('patient-status').textContent(), { timeout: 20_000 })
          .toContain(`Cannot reach the chain at ${deadRpc}`);
      });
    } finally {
      web.kill('SIGTERM');
      await exited;
    }
  });
});
