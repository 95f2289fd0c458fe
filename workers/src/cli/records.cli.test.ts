// The record commands as a user runs them, against a real anvil chain and the default stores:
// synth → import 10,000 resources → kill -9 mid-import → import again → exactly 10,000 records;
// a malformed bundle; correct, erase, anchor, export, and verify (offline, copied elsewhere, on
// chain, and after one flipped byte). Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { REPO_ROOT } from '@consentry/sdk/config';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { vaultKinds } from '../records/testing/vaults.ts';

const CLI = join(REPO_ROOT, 'scripts', 'consentry.mjs');
const TOTAL = 10_000;
/** The record commands are exercised on a small vault of their own: the scale test is the import. */
const SMALL = 60;

let anvil: AnvilInstance;
const dir = mkdtempSync(join(tmpdir(), 'consentry-cli-records-'));
let baseEnv: Record<string, string>;

beforeAll(async () => {
  anvil = await startAnvil();
  const deployments = join(dir, 'deployments');
  await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: 31337, deploymentsDir: deployments });
  baseEnv = { RPC_URL: anvil.rpcUrl, CHAIN_ID: '31337', DEPLOYMENTS_DIR: deployments };
  // Exactly 10,000 synthetic resources, as Bulk Data NDJSON.
  const synth = spawnSync(process.execPath, [CLI, 'synth', '--patients', '800', '--seed', 'cli-kill', '--out', join(dir, 'synth')], { encoding: 'utf8' });
  expect(synth.status, synth.stderr).toBe(0);
  const lines: string[] = [];
  for (const f of readdirSync(join(dir, 'synth')).sort()) {
    for (const e of JSON.parse(readFileSync(join(dir, 'synth', f), 'utf8')).entry) if (lines.length < TOTAL) lines.push(JSON.stringify(e.resource));
  }
  expect(lines).toHaveLength(TOTAL);
  writeFileSync(join(dir, 'ten-thousand.ndjson'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'small.ndjson'), `${lines.slice(0, SMALL).join('\n')}\n`);
}, 180_000);
afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(vaultKinds().filter((k) => k.name !== 'pglite'))('consentry records on $name', (kind) => {
  let env: Record<string, string>;
  const run = (...args: string[]) => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
    if (process.env.CLI_TIMINGS) console.log(`${args.slice(0, 2).join(' ')}: ${Date.now() - started} ms`);
    return r;
  };
  const list = () => JSON.parse(run('records', 'list', '--json', '--dev-account', '7').stdout) as Array<{ recordId: string; category: string; resourceType: string; version: number; anchored: boolean; erased: unknown }>;

  beforeAll(() => {
    env = { ...baseEnv, ...kind.childEnv() };
  });
  afterAll(() => kind.cleanup());

  it('imports 10,000 resources with progress; after kill -9 mid-import a re-run ends with exactly 10,000', async () => {
    const child = spawn(process.execPath, [CLI, 'import', join(dir, 'ten-thousand.ndjson'), '--dev-account', '7', '--no-anchor'], {
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const killed = new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const stored = [...stderr.matchAll(/import +\[[# ]+\] ([\d,]+)\/10,000/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
        const done = stored.at(-1) ?? 0;
        if (done >= 3_000) {
          process.kill(-child.pid!, 'SIGKILL'); // the whole group: the shim and the CLI itself
          resolve(done);
        }
      });
      child.on('exit', () => reject(new Error(`import ended before it could be killed:\n${stderr}`)));
    });
    const doneAtKill = await killed;
    expect(doneAtKill).toBeLessThan(TOTAL);
    expect(stderr).toMatch(/validate \[#+\] /);
    expect(stderr).toMatch(/\d+\/s/);

    const again = run('import', join(dir, 'ten-thousand.ndjson'), '--dev-account', '7');
    expect(again.status, again.stderr).toBe(0);
    const summary = /(\S+) stored \(0 as new versions\), (\S+) already stored/.exec(again.stdout);
    expect(summary, again.stdout).not.toBeNull();
    const storedNow = Number(summary![1]!.replace(/,/g, ''));
    const already = Number(summary![2]!.replace(/,/g, ''));
    expect(storedNow + already).toBe(TOTAL);
    expect(already).toBeGreaterThanOrEqual(doneAtKill - 500); // at most the chunk in flight was lost
    expect(again.stdout).toMatch(/anchor: [\d,]+ versions anchored in \d+ batch\(es\); every version of yours has its inclusion proof/);

    const third = run('import', join(dir, 'ten-thousand.ndjson'), '--dev-account', '7');
    expect(third.stdout).toContain('0 stored (0 as new versions), 10,000 already stored');
    const records = list();
    expect(records).toHaveLength(TOTAL);
    expect(records.every((r) => r.anchored && r.version === 1)).toBe(true);
  }, 300_000);

  it('reports each bad resource of a malformed bundle with its location and stores the good ones', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Observation', id: 'ok-1', status: 'final', code: { text: 'Heart rate' } } },
        { resource: { resourceType: 'Observation', id: 'bad-1', code: { text: 'no status' } } },
        { resource: { resourceType: 'Condition', id: 'ok-2', subject: { reference: 'Patient/p' }, code: { text: 'Asthma' } } },
        { resource: { resourceType: 'Observation', id: 'bad-2', status: 'final', code: { text: 'x' }, valueQuantity: { value: 'high' } } },
        { nothing: true },
      ],
    };
    writeFileSync(join(dir, 'malformed.json'), JSON.stringify(bundle));
    writeFileSync(join(dir, 'not-json.json'), 'this is not FHIR');
    const r = run('import', join(dir, 'malformed.json'), join(dir, 'not-json.json'), '--dev-account', '7', '--no-anchor');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rejected malformed\.json#entry\[1\]: .*status/);
    expect(r.stderr).toMatch(/rejected malformed\.json#entry\[3\]: .*value/);
    expect(r.stderr).toMatch(/rejected malformed\.json#entry\[4\]: entry has no resource/);
    expect(r.stderr).toMatch(/rejected not-json\.json:1: not JSON/);
    expect(r.stdout).toContain('2 stored (0 as new versions)');
    expect(r.stdout).toContain('4 rejected');
    expect(list()).toHaveLength(TOTAL + 2);
    const onlyBad = run('import', join(dir, 'not-json.json'), '--dev-account', '7', '--no-anchor');
    expect(onlyBad.status).toBe(1);
  }, 120_000);

  it('corrects, erases, anchors, exports; the export verifies when copied elsewhere and fails on one flipped byte', () => {
    env = { ...baseEnv, ...kind.childEnv() };
    const imported = run('import', join(dir, 'small.ndjson'), '--dev-account', '7', '--no-anchor');
    expect(imported.stdout, imported.stderr).toContain(`${SMALL} stored`);
    const target = list().find((r) => r.category === 'labs')!;
    const shown = run('records', 'show', target.recordId.slice(0, 14), '--dev-account', '7');
    expect(shown.status, shown.stderr).toBe(0);
    const resource = JSON.parse(shown.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
    writeFileSync(join(dir, 'corrected.json'), JSON.stringify({ ...resource, status: 'corrected' }));
    const corrected = run('correct', target.recordId, '--file', join(dir, 'corrected.json'), '--reason', 'Wrong unit on the lab report', '--dev-account', '7');
    expect(corrected.status, corrected.stderr).toBe(0);
    expect(corrected.stdout).toContain('is now version 2');
    const history = run('records', 'show', target.recordId, '--history', '--dev-account', '7');
    expect(history.stdout).toContain('version 1 of 2');
    expect(history.stdout).toContain('# reason: Wrong unit on the lab report');
    expect(history.stdout).toContain('"status": "corrected"');

    const victim = list().find((r) => r.category === 'medications')!;
    expect(run('erase', victim.recordId, '--reason', 'Patient request', '--dev-account', '7').status).toBe(2); // needs --yes
    const erased = run('erase', victim.recordId, '--reason', 'Patient request', '--yes', '--dev-account', '7');
    expect(erased.status, erased.stderr).toBe(0);
    expect(run('records', 'show', victim.recordId, '--dev-account', '7').stdout).toContain('ERASED');

    const anchored = run('anchor', '--dev-account', '7');
    expect(anchored.status, anchored.stderr).toBe(0);
    expect(anchored.stdout).toMatch(new RegExp(`${SMALL + 1} versions anchored`));

    const out = join(dir, `export-${kind.name}`);
    const exported = run('export', '--out', out, '--zip', '--dev-account', '7');
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`${SMALL} records`);
    const elsewhere = join(dir, `usb-${kind.name}`);
    cpSync(out, elsewhere, { recursive: true });
    const ok = run('verify', elsewhere);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`verify: OK · ${SMALL} records, ${SMALL + 1} versions, ${SMALL + 1} with valid inclusion proofs`);
    const onChain = run('verify', `${out}.zip`, '--rpc');
    expect(onChain.status, onChain.stderr).toBe(0);
    expect(onChain.stdout).toMatch(/root\(s\) confirmed on chain/);

    // One flipped byte in the erased record's ciphertext: named, exit code 1.
    const manifest = JSON.parse(readFileSync(join(elsewhere, 'manifest.json'), 'utf8'));
    const entry = manifest.records.find((r: { recordId: string }) => r.recordId === victim.recordId);
    const file = join(elsewhere, entry.versions[0].ciphertext);
    const bytes = readFileSync(file);
    bytes[10]! ^= 0x80;
    writeFileSync(file, bytes);
    const bad = run('verify', elsewhere);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`FAIL record ${victim.resourceType} ${victim.recordId} version 1: ciphertext was altered`);
  }, 300_000);
});
