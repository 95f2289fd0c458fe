#!/usr/bin/env node
// `npm start` / `npm run demo`: installs what is missing, then hands over to scripts/stack-cli.ts.
// Plain JavaScript on purpose: it must run before node_modules (and so tsx) exists.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 10)) {
  console.error(`Consentry needs Node.js 20.10 or newer; this is ${process.version}.`);
  process.exit(1);
}

const needed = ['tsx', 'viem', 'better-sqlite3', '@foundry-rs/anvil', '@remix-run/node'];
const missing = needed.filter((p) => !existsSync(join(root, 'node_modules', p, 'package.json')));
if (missing.length > 0) {
  console.log(`Installing dependencies (missing: ${missing.join(', ')}); this takes a few minutes the first time ...`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('npm ci failed; see the output above.');
    process.exit(r.status ?? 1);
  }
}

// The contracts' ABIs (sdk/src/abi/generated.ts) are generated from the build, not committed; the
// stack's own modules import them, so on a fresh clone they are built before the stack loads.
if (!existsSync(join(root, 'sdk', 'src', 'abi', 'generated.ts'))) {
  console.log('Building the contracts (first start) ...');
  const built = spawnSync('npm', ['run', 'build:contracts', '--silent'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('Building the contracts failed; see the output above.');
    process.exit(built.status ?? 1);
  }
}

// The eligibility proof's keys (circuits/build, cached): built in the background so the stack does
// not wait for them; the first time takes ~8 minutes, later runs see "up to date" in a second. Until
// they exist the web app answers /zk/* with "run npm run circuits:setup" and proving waits.
const logDir = join(root, '.consentry');
mkdirSync(logDir, { recursive: true });
const setupLog = join(logDir, 'circuits-setup.log');
const setup = spawn(process.execPath, ['--import', 'tsx', join(root, 'circuits', 'scripts', 'setup.ts')], {
  cwd: root,
  stdio: ['ignore', openSync(setupLog, 'w'), openSync(setupLog, 'a')],
});
const announce = setTimeout(() => {
  console.log(`proving keys: building in the background (the first time takes about 8 minutes; progress in ${setupLog})`);
}, 3000);
setup.on('exit', (code) => {
  clearTimeout(announce);
  const upToDate = readFileSync(setupLog, 'utf8').includes('circuit and zkey: up to date');
  if (code === 0 && !upToDate) console.log('proving keys: ready (eligibility proofs can be made now)');
  if (code !== 0) console.error(`proving keys: the setup failed (exit ${code}); see ${setupLog}, then run \`npm run circuits:setup\``);
});

const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'stack-cli.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
// The child handles Ctrl-C itself (it shares our terminal's process group); we only wait for it.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { child.kill(sig); setup.kill(sig); });
child.on('exit', (code, signal) => {
  setup.kill();
  process.exit(code ?? (signal ? 1 : 0));
});
