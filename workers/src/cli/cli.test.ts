import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@consentry/sdk/config';
import { parseFhirInput } from '@consentry/sdk/records/fhir';

// The real command, as a user runs it.
const consentry = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'consentry.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('consentry CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('synth writes one valid bundle per patient, the same for the same seed', () => {
    const a = consentry('synth', '--patients', '12', '--seed', 's1', '--out', join(dir, 'a'));
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/wrote 12 bundles with \d+ resources/);
    const files = readdirSync(join(dir, 'a')).sort();
    expect(files).toHaveLength(12);
    for (const f of files) expect(parseFhirInput(readFileSync(join(dir, 'a', f), 'utf8'), f).errors).toEqual([]);
    expect(consentry('synth', '--patients', '12', '--seed', 's1', '--out', join(dir, 'b')).status).toBe(0);
    for (const f of files) expect(readFileSync(join(dir, 'b', f), 'utf8')).toBe(readFileSync(join(dir, 'a', f), 'utf8'));
  });

  it('explains bad usage in words with exit code 2, and lists its commands', () => {
    const bad = consentry('synth', '--patients', 'many', '--out', dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--patients must be a whole number');
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack
    const unknown = consentry('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const help = consentry('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/synth\s+Write synthetic FHIR R4 bundles/);
    expect(consentry('synth', '--help').stdout).toContain('Usage: consentry synth --patients <N>');
  });
});
