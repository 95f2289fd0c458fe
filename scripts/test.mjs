#!/usr/bin/env node
// `npm test`: every suite, in order, then one line "N passed, N failed" summed over all of them.
//   1. contracts build + ABI generation (a check)
//   2. forge tests (unit + fuzz)
//   2b. circuits setup (a check): compiles the eligibility circuit and runs its development trusted
//      setup into circuits/build (cached: seconds when nothing changed, 7-8 min from scratch), so
//      vitest has the proving files; fails if the committed verifier / verification key are stale
//   3. typecheck (tsc, strict; circuits/ has its own tsconfig for its scripts and tests)
//   4. subgraph manifest + graph codegen + graph build (a check)
//   5. vitest: unit and integration tests (real anvil, SQLite, PGlite, and PostgreSQL when
//      TEST_DATABASE_URL is set), subgraph mapping + parity tests
//   6. web build (a check) and the browser journeys in Chromium (e2e/, vitest + playwright-core)
// A suite that cannot start counts as one failure; nothing is skipped silently.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const results = [];
const started = Date.now();

function run(cmd, args, { env = {}, capture = false } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (capture) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
  }
  return r;
}

function section(title) {
  console.log(`\n=== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);
}

/** A step that is one check: passes when the command exits 0. */
function check(name, cmd, args, opts) {
  section(name);
  const r = run(cmd, args, opts);
  const ok = r.status === 0;
  results.push({ suite: name, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
  return ok;
}

function forge() {
  section('forge test');
  const r = run(bin('forge'), ['test'], { capture: true });
  const out = `${r.stdout}\n${r.stderr}`;
  // "Ran 1 test suite in 103ms (96ms CPU time): 14 tests passed, 0 failed, 0 skipped (14 total tests)"
  const m = out.match(/(\d+) tests passed, (\d+) failed, (\d+) skipped/);
  if (!m) return results.push({ suite: 'forge', passed: 0, failed: 1 });
  const failed = Number(m[2]) + Number(m[3]) + (r.status !== 0 && Number(m[2]) === 0 ? 1 : 0);
  results.push({ suite: 'forge', passed: Number(m[1]), failed });
}

function vitest(name, args) {
  section(name);
  const report = join(mkdtempSync(join(tmpdir(), 'consentry-vitest-')), 'report.json');
  const r = run(bin('vitest'), ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
  if (!existsSync(report)) return results.push({ suite: name, passed: 0, failed: 1 });
  const j = JSON.parse(readFileSync(report, 'utf8'));
  // Skipped or todo tests count as failures: nothing is skipped to go green.
  const failed = j.numFailedTests + (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  // A file that fails to load has no tests but fails the run.
  const broken = j.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  results.push({ suite: name, passed: j.numPassedTests, failed: failed + broken + (r.status !== 0 && failed + broken === 0 ? 1 : 0) });
}

const built = check('contracts build', 'npm', ['run', 'build:contracts', '--silent']);
if (built) {
  forge();
  check('circuits setup', 'npm', ['run', 'circuits:setup', '--silent', '--', '--check']);
  check('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  check('typecheck circuits', bin('tsc'), ['-p', 'circuits/tsconfig.json', '--noEmit']);
  check('subgraph build', 'npm', ['run', 'build', '-w', '@consentry/subgraph', '--silent']);
  vitest('vitest', []);
  if (check('web build', 'npm', ['run', 'build', '-w', '@consentry/web', '--silent'])) {
    vitest('e2e (chromium)', ['--config', 'e2e/vitest.config.ts']);
  } else {
    results.push({ suite: 'e2e (chromium)', passed: 0, failed: 1 });
  }
}

section('summary');
for (const r of results) console.log(`${r.suite.padEnd(20)} ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
