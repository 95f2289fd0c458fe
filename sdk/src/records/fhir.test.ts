import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.ts';
import { parseFhirInput, validateFhirResource } from './fhir.ts';

const obs = (id: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] },
  valueQuantity: { value: 5.4, unit: '%' },
  ...extra,
});
const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Synthetic', given: ['Test'] }], gender: 'female', birthDate: '1970-01-01' };
const bundle = (type: string, resources: unknown[]) =>
  JSON.stringify({ resourceType: 'Bundle', type, entry: resources.map((resource) => ({ resource })) });

describe('parseFhirInput', () => {
  it.each(['collection', 'transaction', 'searchset', 'batch'])('takes the resources of a %s Bundle', (type) => {
    const r = parseFhirInput(bundle(type, [patient, obs('o1')]), 'b.json');
    expect(r.errors).toEqual([]);
    expect(r.resources.map((x) => [x.resource.id, x.location])).toEqual([
      ['p1', 'b.json#entry[0]'],
      ['o1', 'b.json#entry[1]'],
    ]);
  });

  it('reports each invalid resource with its location and reason, and keeps the valid ones', () => {
    const text = bundle('collection', [
      obs('good-1'),
      obs('bad-status', { status: undefined }),
      obs('good-2'),
      obs('bad-type', { valueQuantity: { value: 'high' } }),
      { id: 'no-type' },
      obs('good-3'),
    ]);
    const r = parseFhirInput(text, 'mixed.json');
    expect(r.resources.map((x) => x.resource.id)).toEqual(['good-1', 'good-2', 'good-3']);
    expect(r.errors.map((e) => e.location)).toEqual(['mixed.json#entry[1]', 'mixed.json#entry[3]', 'mixed.json#entry[4]']);
    expect(r.errors[0]!.reason).toMatch(/Observation\.status.*required/i);
    expect(r.errors[1]!.reason).toMatch(/value.*expected number/i);
    expect(r.errors[2]!.reason).toBe('no resourceType');
  });

  it('reads Bulk Data NDJSON line by line; a malformed line is an error of its own', () => {
    const text = [JSON.stringify(obs('n1')), '{not json', '', JSON.stringify(patient)].join('\n');
    const r = parseFhirInput(text, 'Observation.ndjson');
    expect(r.resources.map((x) => x.location)).toEqual(['Observation.ndjson:1', 'Observation.ndjson:4']);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ location: 'Observation.ndjson:2', reason: expect.stringMatching(/^not JSON/) });
  });

  it('accepts a single resource, and refuses other Bundle types and empty input in words', () => {
    expect(parseFhirInput(JSON.stringify(patient), 'p.json').resources).toHaveLength(1);
    expect(parseFhirInput(bundle('document', [patient]), 'd.json').errors[0]!.reason).toMatch(/Bundle type "document" is not one of/);
    expect(parseFhirInput('   ', 'e.json').errors).toEqual([{ location: 'e.json', reason: 'empty input' }]);
    expect(validateFhirResource([1, 2])).toEqual(['not a JSON object']);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined, keeps array order, adds no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('gives the same bytes for the same resource however its keys were ordered', () => {
    const a = obs('same');
    const b = Object.fromEntries(Object.entries(obs('same')).reverse());
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(JSON.parse(canonicalJson(a))).toEqual(a);
  });

  it('serialises numbers as ECMAScript does, and refuses what JSON cannot hold', () => {
    expect(canonicalJson([1e21, 0.1, -0, 5.40])).toBe('[1e+21,0.1,0,5.4]');
    expect(() => canonicalJson(Number.NaN)).toThrowError(RangeError);
    expect(() => canonicalJson(() => 1)).toThrowError(TypeError);
  });
});

describe('slim definitions (what the browser loads)', () => {
  it('validate exactly as the full definitions do, valid and invalid resources alike', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { synthesizeBundles } = await import('../synth/generate.ts');
    const { REPO_ROOT } = await import('../config.ts');
    const valid = synthesizeBundles({ patients: 6, seed: 'slim' }).flatMap((b) => b.entry.map((e) => e.resource));
    const invalid = [
      { resourceType: 'Observation', id: 'a', code: { text: 'no status' } },
      { resourceType: 'Observation', id: 'b', status: 'final', code: { text: 'x' }, valueQuantity: { value: 'high' } },
      { resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/p' }, onsetDateTime: 'yesterday' },
      { resourceType: 'Patient', id: 'd', gender: 42 },
      { resourceType: 'MedicationRequest', id: 'e', status: 'active' },
      { resourceType: 'NotAResource', id: 'f' },
    ];
    const all = [...valid, ...invalid];
    const dir = mkdtempSync(join(tmpdir(), 'consentry-slim-'));
    try {
      writeFileSync(join(dir, 'r.json'), JSON.stringify(all));
      const child = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'sdk/src/records/testing/validate-slim.ts'), join(dir, 'r.json')], { encoding: 'utf8', cwd: REPO_ROOT, maxBuffer: 1 << 26 });
      expect(child.status, child.stderr).toBe(0);
      const slim = JSON.parse(child.stdout) as string[][];
      const full = all.map((r) => validateFhirResource(r));
      expect(slim).toEqual(full);
      expect(full.slice(valid.length).every((reasons) => reasons.length > 0)).toBe(true);
      expect(full.slice(0, valid.length).every((reasons) => reasons.length === 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
