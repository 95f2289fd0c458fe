// The IRB journeys' last check: `consentry audit verify` (the real command, against the stack's
// chain) passes on an exported bundle, and fails once one line of it is altered (the cohort of a
// purchase: no longer what the chain says).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { REPO_ROOT } from '@consentry/sdk/config';
import { join } from 'node:path';
import type { Stack } from '../../scripts/stack.ts';

export function expectAuditVerifies(stack: Stack, chainId: number, bundleFile: string, alteredFile: string): void {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'consentry.mjs'), ...args], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, RPC_URL: stack.rpcUrl, CHAIN_ID: String(chainId), DEPLOYMENTS_DIR: stack.config.DEPLOYMENTS_DIR, DATA_DIR: stack.config.DATA_DIR, DATABASE_URL: '' },
    });
  const ok = cli('audit', 'verify', bundleFile);
  expect(ok.stderr).toBe('');
  expect(ok.status, ok.stdout).toBe(0);
  const lines = readFileSync(bundleFile, 'utf8').split('\n');
  const i = lines.findIndex((l) => /"cohort": 3/.test(l));
  expect(i).toBeGreaterThan(0);
  lines[i] = lines[i]!.replace('"cohort": 3', '"cohort": 2');
  writeFileSync(alteredFile, lines.join('\n'));
  const bad = cli('audit', 'verify', alteredFile);
  expect(bad.status).toBe(1);
  expect(`${bad.stdout}${bad.stderr}`).toMatch(/cohort|sha256|SHA-256/i);
}
