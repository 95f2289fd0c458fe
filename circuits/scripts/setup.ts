/**
 * `npm run circuits:setup`: compiles the eligibility circuit, runs a DEVELOPMENT Groth16 trusted
 * setup, and exports the verification key and the Solidity verifier (decision 018).
 *
 *   node --import tsx circuits/scripts/setup.ts [--check] [--build-dir <dir>]
 *
 * Stages (each printed with its elapsed seconds), cached under the build directory (default
 * circuits/build/, gitignored):
 *   1. powers of tau 2^14: new → contribution → beacon → prepare phase 2   (keyed by its parameters)
 *   2. circom2 (WASM) → eligibility.r1cs, eligibility.wasm                  (keyed by the circuit)
 *   3. groth16 setup → phase-2 contribution → beacon → eligibility.zkey     (same key)
 *   4. verification_key.json and EligibilityGroth16Verifier.sol from the zkey (every run: seconds)
 * With nothing changed, stages 1-3 say "up to date" and the run takes seconds.
 *
 * Deterministic: every contribution's randomness comes from fixed, published strings (snarkjs's
 * `contribute` mixes in OS randomness, so each contribution is applied through snarkjs's beacon
 * mechanism, with the SHA-256 of its published entropy string as the beacon). Anyone can therefore
 * rebuild the exact keys — and anyone can forge proofs with them: the toxic waste is public. A
 * production deployment uses a public ceremony's ptau and a multi-party phase 2 (decision 018).
 *
 * Then it writes circuits/verification_key.json and contracts/src/verifiers/EligibilityGroth16Verifier.sol
 * (committed). With --check it writes neither and fails if the built ones differ from the committed
 * ones (CI: the committed verifier must be what the sources produce).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CIRCUITS = join(ROOT, 'circuits');
const NODE_MODULES = join(ROOT, 'node_modules');
const MAIN = join(CIRCUITS, 'main', 'eligibility.circom');
export const COMMITTED_VKEY = join(CIRCUITS, 'verification_key.json');
export const COMMITTED_VERIFIER = join(ROOT, 'contracts', 'src', 'verifiers', 'EligibilityGroth16Verifier.sol');

/** Every input of the setup that is not a file: changing one rebuilds what depends on it. */
export const SETUP = {
  format: 1,
  ptau: {
    power: 14,
    // The published "randomness" of the development ceremony (see the file header).
    contribution: { name: 'consentry development ptau contribution', entropy: 'consentry/dev-setup/v1/ptau-contribution: public, NOT FOR PRODUCTION' },
    beacon: { name: 'consentry development ptau beacon', entropy: 'consentry/dev-setup/v1/ptau-beacon: public, NOT FOR PRODUCTION', iterationsExp: 10 },
  },
  phase2: {
    contribution: { name: 'consentry development phase-2 contribution', entropy: 'consentry/dev-setup/v1/phase2-contribution: public, NOT FOR PRODUCTION' },
    beacon: { name: 'consentry development phase-2 beacon', entropy: 'consentry/dev-setup/v1/phase2-beacon: public, NOT FOR PRODUCTION', iterationsExp: 10 },
  },
  // --O2: full linear simplification (about 13k constraints instead of 25k with --O1).
  circomFlags: ['--O2'],
} as const;
/** Beacon iterations (2^n SHA-256 rounds) for the contributions; the beacons set their own. */
const CONTRIBUTION_ITERATIONS_EXP = 10;

const sha256Hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const versionOf = (pkg: string) => (JSON.parse(readFileSync(join(NODE_MODULES, pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** The circuit's sources, in a fixed order. */
export function circuitSources(): string[] {
  const src = readdirSync(join(CIRCUITS, 'src'))
    .filter((f) => f.endsWith('.circom'))
    .sort()
    .map((f) => join(CIRCUITS, 'src', f));
  return [...src, MAIN];
}

/** The cache key of the compiled circuit and its zkey: sources, tool versions, parameters. */
export function circuitKey(): string {
  const h = createHash('sha256');
  for (const f of circuitSources()) h.update(`${relative(ROOT, f)}\0`).update(readFileSync(f)).update('\0');
  for (const pkg of ['circom2', 'circomlib', '@zk-kit/binary-merkle-root.circom', 'snarkjs']) h.update(`${pkg}@${versionOf(pkg)}\0`);
  h.update(JSON.stringify(SETUP));
  return h.digest('hex');
}

const ptauKey = () => sha256Hex(JSON.stringify({ ptau: SETUP.ptau, snarkjs: versionOf('snarkjs'), iterations: CONTRIBUTION_ITERATIONS_EXP }));

/** Where a build directory keeps each artifact. */
export function buildPaths(buildDir: string) {
  return {
    dir: buildDir,
    ptau: join(buildDir, 'ptau', `pot${SETUP.ptau.power}_final.ptau`),
    ptauStamp: join(buildDir, 'ptau', 'stamp.json'),
    r1cs: join(buildDir, 'eligibility.r1cs'),
    wasm: join(buildDir, 'eligibility_js', 'eligibility.wasm'),
    zkey: join(buildDir, 'eligibility.zkey'),
    stamp: join(buildDir, 'stamp.json'),
    vkey: join(buildDir, 'verification_key.json'),
    verifier: join(buildDir, 'EligibilityGroth16Verifier.sol'),
    log: join(buildDir, 'setup.log'),
  };
}

// ---------------------------------------------------------------------------------------------

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (line: string) => console.log(`[circuits:setup ${elapsed().padStart(7)}] ${line}`);

function fileLogger(path: string): snarkjs.SnarkjsLogger {
  const write = (level: string) => (...args: unknown[]) => writeFileSync(path, `${level} ${args.map(String).join(' ')}\n`, { flag: 'a' });
  return { log: write('log'), info: write('info'), debug: () => {}, warn: write('warn'), error: write('error') };
}

const readJson = <T>(path: string): T | null => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null);

async function buildPtau(paths: ReturnType<typeof buildPaths>, logger: snarkjs.SnarkjsLogger): Promise<void> {
  const key = ptauKey();
  if (readJson<{ key: string }>(paths.ptauStamp)?.key === key && existsSync(paths.ptau)) {
    say(`powers of tau 2^${SETUP.ptau.power}: up to date`);
    return;
  }
  const dir = dirname(paths.ptau);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  try {
    const { power, contribution, beacon } = SETUP.ptau;
    const p0 = join(dir, 'pot_0000.ptau');
    const p1 = join(dir, 'pot_0001.ptau');
    const p2 = join(dir, 'pot_beacon.ptau');
    const tmp = `${paths.ptau}.tmp`;
    say(`powers of tau 2^${power}: new accumulator`);
    await snarkjs.powersOfTau.newAccumulator(curve, power, p0, logger);
    say(`powers of tau: contribution "${contribution.name}"`);
    await snarkjs.powersOfTau.beacon(p0, p1, contribution.name, sha256Hex(contribution.entropy), CONTRIBUTION_ITERATIONS_EXP, logger);
    say(`powers of tau: beacon "${beacon.name}"`);
    await snarkjs.powersOfTau.beacon(p1, p2, beacon.name, sha256Hex(beacon.entropy), beacon.iterationsExp, logger);
    say('powers of tau: prepare phase 2 (the longest stage, a few minutes on 2 cores)');
    await snarkjs.powersOfTau.preparePhase2(p2, tmp, logger);
    renameSync(tmp, paths.ptau);
    for (const f of [p0, p1, p2]) rmSync(f, { force: true });
    writeFileSync(paths.ptauStamp, `${JSON.stringify({ key, power }, null, 2)}\n`);
    say(`powers of tau: done (${(statSync(paths.ptau).size / 2 ** 20).toFixed(1)} MB)`);
  } finally {
    await curve.terminate();
  }
}

function compile(paths: ReturnType<typeof buildPaths>): void {
  say(`compiling ${relative(ROOT, MAIN)} with circom2 ${versionOf('circom2')} (WASM) ${SETUP.circomFlags.join(' ')}`);
  for (const f of [paths.r1cs, dirname(paths.wasm)]) rmSync(f, { recursive: true, force: true });
  // circom2 exits 0 with "invalid output path" when -o does not exist.
  mkdirSync(paths.dir, { recursive: true });
  const r = spawnSync(
    process.execPath,
    [
      join(NODE_MODULES, 'circom2', 'cli.js'),
      MAIN,
      '--r1cs',
      '--wasm',
      ...SETUP.circomFlags,
      '-l',
      join(NODE_MODULES, 'circomlib', 'circuits'),
      '-l',
      join(NODE_MODULES, '@zk-kit', 'binary-merkle-root.circom', 'src'),
      '-o',
      paths.dir,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  writeFileSync(paths.log, `circom2 ${r.stdout}\n${r.stderr}\n`, { flag: 'a' });
  if (r.status !== 0 || !existsSync(paths.r1cs) || !existsSync(paths.wasm)) {
    throw new Error(`circom2 failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

async function buildZkey(paths: ReturnType<typeof buildPaths>, logger: snarkjs.SnarkjsLogger): Promise<{ constraints: number }> {
  const key = circuitKey();
  const stamp = readJson<{ key: string; constraints: number }>(paths.stamp);
  if (stamp?.key === key && [paths.r1cs, paths.wasm, paths.zkey].every((f) => existsSync(f))) {
    say(`circuit and zkey: up to date (${stamp.constraints} constraints)`);
    return stamp;
  }
  rmSync(paths.stamp, { force: true });
  compile(paths);
  const { nConstraints } = await snarkjs.r1cs.info(paths.r1cs, logger);
  say(`compiled: ${nConstraints} constraints (ptau 2^${SETUP.ptau.power} holds ${2 ** SETUP.ptau.power})`);
  if (nConstraints + 7 > 2 ** SETUP.ptau.power) throw new Error(`${nConstraints} constraints do not fit powers of tau 2^${SETUP.ptau.power}`);

  const { contribution, beacon } = SETUP.phase2;
  const z0 = `${paths.zkey}.0000`;
  const z1 = `${paths.zkey}.0001`;
  const tmp = `${paths.zkey}.tmp`;
  say('groth16 setup');
  await snarkjs.zKey.newZKey(paths.r1cs, paths.ptau, z0, logger);
  say(`phase 2: contribution "${contribution.name}"`);
  await snarkjs.zKey.beacon(z0, z1, contribution.name, sha256Hex(contribution.entropy), CONTRIBUTION_ITERATIONS_EXP, logger);
  say(`phase 2: beacon "${beacon.name}"`);
  await snarkjs.zKey.beacon(z1, tmp, beacon.name, sha256Hex(beacon.entropy), beacon.iterationsExp, logger);
  renameSync(tmp, paths.zkey);
  for (const f of [z0, z1]) rmSync(f, { force: true });
  const built = { key, constraints: nConstraints };
  writeFileSync(paths.stamp, `${JSON.stringify(built, null, 2)}\n`);
  say(`zkey: done (${(statSync(paths.zkey).size / 2 ** 20).toFixed(1)} MB)`);
  return built;
}

const VERIFIER_HEADER = `// Generated by \`npm run circuits:setup\` from circuits/main/eligibility.circom (circuits/scripts/setup.ts):
// snarkjs's Groth16 verifier template, contract renamed EligibilityGroth16Verifier and declared to
// implement IGroth16Verifier. DO NOT EDIT: change the circuit or the setup and run the script again.
// The keys come from a DEVELOPMENT setup whose randomness is public (decision 018): anyone can forge
// proofs for this verifier. Production deploys a verifier from a public ceremony.
`;

/** snarkjs's verifier, renamed and tied to the interface the contracts use. */
function shapeVerifier(sol: string): string {
  const named = sol.replace(/\bcontract Groth16Verifier\b/, 'contract EligibilityGroth16Verifier is IGroth16Verifier');
  if (named === sol) throw new Error('The snarkjs verifier template changed: no "contract Groth16Verifier" to rename');
  const withImport = named.replace(/(pragma solidity [^;]+;\n)/, `$1\nimport {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";\n`);
  // The SPDX line must stay first.
  const [spdx, ...rest] = withImport.split('\n');
  return `${spdx}\n${VERIFIER_HEADER}${rest.join('\n')}`;
}

async function exportKeys(paths: ReturnType<typeof buildPaths>, logger: snarkjs.SnarkjsLogger): Promise<void> {
  const vkey = await snarkjs.zKey.exportVerificationKey(paths.zkey, logger);
  writeFileSync(paths.vkey, `${JSON.stringify(vkey, null, 2)}\n`);
  const template = readFileSync(join(NODE_MODULES, 'snarkjs', 'templates', 'verifier_groth16.sol.ejs'), 'utf8');
  const sol = await snarkjs.zKey.exportSolidityVerifier(paths.zkey, { groth16: template }, logger);
  writeFileSync(paths.verifier, shapeVerifier(sol));
  say('exported the verification key and the Solidity verifier');
}

function publish(paths: ReturnType<typeof buildPaths>, check: boolean): boolean {
  let same = true;
  for (const [built, committed] of [
    [paths.vkey, COMMITTED_VKEY],
    [paths.verifier, COMMITTED_VERIFIER],
  ] as const) {
    const content = readFileSync(built, 'utf8');
    const current = existsSync(committed) ? readFileSync(committed, 'utf8') : null;
    if (current === content) {
      say(`${relative(ROOT, committed)}: matches the build`);
      continue;
    }
    if (check) {
      same = false;
      say(`${relative(ROOT, committed)}: DIFFERS from the build (${relative(ROOT, built)}); run \`npm run circuits:setup\` and commit it`);
    } else {
      mkdirSync(dirname(committed), { recursive: true });
      writeFileSync(committed, content);
      say(`${relative(ROOT, committed)}: written (commit it)`);
    }
  }
  return same;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const at = args.indexOf('--build-dir');
  const buildDir = at >= 0 && args[at + 1] ? resolve(args[at + 1]!) : join(CIRCUITS, 'build');
  const unknown = args.filter((a, i) => a !== '--check' && a !== '--build-dir' && !(at >= 0 && i === at + 1));
  if (unknown.length > 0) {
    console.error(`usage: npm run circuits:setup [-- --check] [-- --build-dir <dir>] (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  const paths = buildPaths(buildDir);
  mkdirSync(buildDir, { recursive: true });
  const logger = fileLogger(paths.log);
  say(`build directory ${relative(ROOT, buildDir) || buildDir} (log: ${relative(ROOT, paths.log)})`);
  await buildPtau(paths, logger);
  await buildZkey(paths, logger);
  await exportKeys(paths, logger);
  const ok = publish(paths, check);
  say(ok ? 'done' : 'FAILED: the committed verifier or verification key is stale');
  return ok ? 0 : 1;
}

// Run as a script (not when imported by tests for its paths and keys).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code), // snarkjs's worker threads keep Node alive otherwise
    (err: unknown) => {
      console.error(`[circuits:setup] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
