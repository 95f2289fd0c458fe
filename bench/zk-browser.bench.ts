/**
 * Proving eligibility in Chromium, as a patient does on /eligibility: the whole stack runs (anvil,
 * contracts, the credential issuer, the built web app), development account 8 (synthetic demo
 * patient: type 2 diabetes, HbA1c 6.9 %) gets a credential in the page and proves and enrols in
 * BENCH_STUDIES studies with the demo criteria, one after the other, in one page. Each proof's time
 * is the web worker's own (performance.now around loading the files, the witness and Groth16):
 *   zk.prove_browser_ms           median of the warm proofs (files in the worker's memory): witness + Groth16
 *   zk.prove_browser_cold_ms      the first proof of a fresh browser, downloading the proving files included
 *   zk.prove_browser_download_ms  of which loading the proving files (from this server, on loopback)
 *   zk.prove_browser_cache_ms     a new page's first proof with the files from the Cache API (no download)
 *   zk.prove_node_ms              baseline: the same proof in Node (this process, snarkjs), median of warm runs
 * Needs `npm run circuits:setup` and `npm run build -w @consentry/web`.
 */
import '../sdk/src/polyfills.ts';
import { rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import type { PublicClient } from 'viem';
import { publicClientFor, walletClientFor } from '../sdk/src/clients.ts';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '../sdk/src/keys.ts';
import { ANVIL_ACCOUNTS } from '../sdk/src/testing/anvil.ts';
import { nodeArtifacts } from '../sdk/src/zk/artifacts.node.ts';
import { readIssuerLeaves } from '../sdk/src/zk/chain.ts';
import { parseCredential } from '../sdk/src/zk/credential.ts';
import { identityCommitment, identitySecretFromSeed } from '../sdk/src/zk/identity.ts';
import { proveEligibility } from '../sdk/src/zk/prove.ts';
import { identitySeedFromEncryptionKey, studyAccount } from '../sdk/src/zk/study-account.ts';
import { DESKTOP, gotoHydrated, launchChromium } from '../e2e/support/browser.ts';
import { E2E_CHAIN_ID, startE2eStack } from '../e2e/support/stack.ts';
import { DEMO_STUDY, demoHistory, seedDemoRecords, seedStudy } from '../scripts/demo.ts';

const STUDIES = Math.max(4, Number(process.env.BENCH_STUDIES ?? 4)); // 1 cold + at least 3 warm
const NODE_RUNS = Number(process.env.BENCH_NODE_RUNS ?? 4);
const PATIENT = 8;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Timing {
  proveMs: number;
  totalMs: number;
  artifactsMs: number;
  source: string;
}

async function signIn(page: Page, webUrl: string): Promise<void> {
  await gotoHydrated(page, `${webUrl}/eligibility`);
  // A page of a browser that connected before reconnects by itself.
  const reconnected = await page.getByTestId('wallet-connected').waitFor({ timeout: 3000 }).then(() => true, () => false);
  if (!reconnected) {
    await page.getByLabel('Account', { exact: true }).selectOption(`dev-account-${PATIENT}`);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByTestId('wallet-connected').waitFor({ timeout: 15_000 });
  }
  await page.getByRole('button', { name: 'Open my eligibility' }).click();
  await page.getByTestId('credential-panel').waitFor({ timeout: 30_000 });
}

/** Checks, consents, proves and enrols in one study; the worker's timings of that proof. */
async function proveAndEnrol(page: Page, studyId: bigint): Promise<Timing> {
  const card = page.locator(`[data-testid="study"][data-study-id="${studyId}"]`);
  await card.getByRole('button', { name: 'Check eligibility' }).click();
  await card.getByTestId('eligible').waitFor({ timeout: 15_000 });
  await card.getByLabel(/I agree to take part in/).check();
  await card.getByRole('button', { name: 'Prove and enrol' }).click();
  const status = card.getByTestId('enrol-status');
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; await page.waitForTimeout(100)) {
    const phase = await status.getAttribute('data-phase').catch(() => null);
    if (phase === 'failed') throw new Error(`Study #${studyId}: ${await card.getByTestId('enrol-problem').textContent()}`);
    if (phase === 'confirmed') break;
  }
  const t = card.getByTestId('proof-timings');
  return {
    proveMs: Number(await t.getAttribute('data-prove-ms')),
    totalMs: Number(await t.getAttribute('data-total-ms')),
    artifactsMs: Number(await t.getAttribute('data-artifacts-ms')),
    source: String(await t.getAttribute('data-source')),
  };
}

const artifacts = nodeArtifacts(); // fails now, in words, when the circuit is not built
const artifactMb = (statSync(artifacts.wasm as string).size + statSync(artifacts.zkey as string).size) / 1e6;
const { stack, workDir } = await startE2eStack();
const browser = await launchChromium();
try {
  await seedDemoRecords(stack, () => {}, [1]);
  const studyIds: bigint[] = [];
  for (let k = 1; k <= STUDIES + 1; k++) {
    studyIds.push((await seedStudy(stack, () => {}, { ...DEMO_STUDY, title: `Benchmark study ${k}` })).studyId);
  }

  // One page, one worker: the first proof downloads the files, the next ones find them in memory.
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  await signIn(page, stack.webUrl);
  await page.getByRole('button', { name: 'Get a credential' }).click();
  await page.locator('[data-testid="credential-panel"][data-state="held"]').waitFor({ timeout: 30_000 });
  const browserRuns: Timing[] = [];
  for (const id of studyIds.slice(0, STUDIES)) browserRuns.push(await proveAndEnrol(page, id));
  // A new page in the same browser profile: a fresh worker, the files from the Cache API.
  const again = await context.newPage();
  await signIn(again, stack.webUrl);
  const fromCache = await proveAndEnrol(again, studyIds[STUDIES]!);
  await context.close();

  // The Node baseline: the same patient, credential and criteria, proved in this process.
  const wallet = walletClientFor(stack.rpcUrl, E2E_CHAIN_ID, ANVIL_ACCOUNTS[PATIENT]!.privateKey);
  const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(E2E_CHAIN_ID)));
  const secret = identitySecretFromSeed(identitySeedFromEncryptionKey(keys.secretKey));
  const res = await fetch(`${stack.env.ISSUER_URL}/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resources: demoHistory(1), identityCommitment: identityCommitment(secret).toString() }),
  });
  const credential = parseCredential(((await res.json()) as { credential: unknown }).credential);
  const client = publicClientFor(stack.rpcUrl, E2E_CHAIN_ID) as PublicClient;
  const { leaves } = await readIssuerLeaves(client, { IssuerRegistry: stack.deployment.contracts.IssuerRegistry!.address });
  const time = Number((await client.getBlock()).timestamp);
  const nodeMs: number[] = [];
  for (let i = 0; i < NODE_RUNS; i++) {
    const studyId = 1000n + BigInt(i);
    const t0 = performance.now();
    await proveEligibility({ credential, secret, criteria: DEMO_STUDY.criteria, studyId, recipient: studyAccount(secret, studyId).address, issuerLeaves: leaves, time, artifacts });
    nodeMs.push(performance.now() - t0);
  }

  const [cold, ...warm] = browserRuns;
  if (cold!.source !== 'network' || warm.some((w) => w.source !== 'memory') || fromCache.source !== 'cache') {
    throw new Error(`The proving files did not come from where expected: ${[...browserRuns, fromCache].map((r) => r.source).join(', ')}`);
  }
  console.log(`# ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; Chromium headless, proof in a web worker (snarkjs); proving files ${artifactMb.toFixed(1)} MB (wasm + zkey)`);
  console.log(`# browser proofs (ms, worker total): ${browserRuns.map((r) => r.totalMs).join(', ')}; from the Cache API: ${fromCache.totalMs}; Node: ${nodeMs.map((m) => m.toFixed(0)).join(', ')}`);
  console.log(`zk.prove_browser_ms: ${median(warm.map((w) => w.proveMs)).toFixed(0)} ms`);
  console.log(`zk.prove_browser_cold_ms: ${cold!.totalMs.toFixed(0)} ms`);
  console.log(`zk.prove_browser_download_ms: ${cold!.artifactsMs.toFixed(0)} ms`);
  console.log(`zk.prove_browser_cache_ms: ${fromCache.totalMs.toFixed(0)} ms`);
  console.log(`zk.prove_node_ms: ${median(nodeMs.slice(1)).toFixed(0)} ms`);
} finally {
  await browser.close();
  await stack.stop();
  rmSync(workDir, { recursive: true, force: true });
}
// snarkjs keeps worker threads alive.
process.exit(0);
