#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts in turn. Each prints its figures as
// `name: value unit` lines (with a baseline from the same run); this runner adds nothing to them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const benches = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only)))
  .sort();
if (benches.length === 0) {
  console.error(`no benchmark matches ${only ?? '*'} in bench/`);
  process.exit(1);
}
const build = spawnSync('npm', ['run', 'build:contracts', '--silent'], { cwd: root, stdio: 'inherit', env: { UV_THREADPOOL_SIZE: '16', ...process.env } });
if (build.status !== 0) process.exit(build.status ?? 1);
// The eligibility proof's benches (zk, and market's real enrolments) need the circuit's proving files (cached: seconds when built).
if (benches.some((f) => f.startsWith('zk') || f.startsWith('market'))) {
  const setup = spawnSync('npm', ['run', 'circuits:setup', '--silent'], { cwd: root, stdio: ['ignore', 2, 2] }); // progress on stderr: stdout carries the figures
  if (setup.status !== 0) process.exit(setup.status ?? 1);
}
let failed = 0;
for (const file of benches) {
  console.error(`# ${file}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('bench', file)], { cwd: root, stdio: 'inherit', env: { UV_THREADPOOL_SIZE: '16', ...process.env } });
  if (r.status !== 0) {
    console.error(`# ${file} failed (exit ${r.status})`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
