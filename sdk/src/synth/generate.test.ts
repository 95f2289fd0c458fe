import { describe, expect, it } from 'vitest';
import { categorize } from '../records/categories.ts';
import { parseFhirInput } from '../records/fhir.ts';
import { synthesizeBundles } from './generate.ts';

describe('synthesizeBundles', () => {
  it('is deterministic from its seed', () => {
    expect(JSON.stringify(synthesizeBundles({ patients: 5, seed: 'a' }))).toBe(JSON.stringify(synthesizeBundles({ patients: 5, seed: 'a' })));
    expect(JSON.stringify(synthesizeBundles({ patients: 5, seed: 'b' }))).not.toBe(JSON.stringify(synthesizeBundles({ patients: 5, seed: 'a' })));
  });

  it('writes valid FHIR R4: 50 patients, every resource passes the validator', () => {
    const bundles = synthesizeBundles({ patients: 50, seed: 42 });
    let count = 0;
    for (const b of bundles) {
      const r = parseFhirInput(JSON.stringify(b), b.id);
      expect(r.errors).toEqual([]);
      count += r.resources.length;
    }
    expect(count).toBeGreaterThan(50 * 8);
  });

  it('covers every kind of record, with a share of mental-health and substance-use', () => {
    const resources = synthesizeBundles({ patients: 200, seed: 7 }).flatMap((b) => b.entry.map((e) => e.resource));
    const counts = new Map<string, number>();
    for (const r of resources) counts.set(categorize(r), (counts.get(categorize(r)) ?? 0) + 1);
    for (const c of ['demographics', 'conditions', 'labs', 'medications', 'allergies', 'immunizations', 'procedures', 'notes', 'mental-health', 'substance-use']) {
      expect(counts.get(c) ?? 0, c).toBeGreaterThan(0);
    }
    const sensitive = (counts.get('mental-health') ?? 0) + (counts.get('substance-use') ?? 0);
    expect(sensitive / resources.length).toBeGreaterThan(0.01);
    expect(sensitive / resources.length).toBeLessThan(0.2);
  });

  it('marks every patient as synthetic', () => {
    for (const b of synthesizeBundles({ patients: 10, seed: 1 })) {
      const patient = b.entry[0]!.resource as { resourceType: string; meta: { tag: Array<{ code: string }> } };
      expect(patient.resourceType).toBe('Patient');
      expect(patient.meta.tag[0]!.code).toBe('synthetic');
    }
  });
});
