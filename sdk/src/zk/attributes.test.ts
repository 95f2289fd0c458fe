// deriveAttributes on synthetic patients (checked against the bundle they came from) and on hand-made
// records for each rule: latest observation wins, units checked or converted, rounding to the
// measure's decimals, active conditions only, deduplicated and most recent first, smoking status
// from 72166-2 before F17.*, and every refusal in words with code ATTRIBUTES_INVALID.
import { describe, expect, it } from 'vitest';
import type { FhirResource } from '../records/fhir-types.ts';
import { synthesizeBundles } from '../synth/generate.ts';
import { AttributesError, deriveAttributes, normalizeIcd10 } from './attributes.ts';
import { encodeAttributes } from './layout.ts';
import { MAX_CONDITIONS } from './types.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
const patient = (extra: Record<string, unknown> = {}): FhirResource => ({ resourceType: 'Patient', id: 'p1', birthDate: '1970-06-15', gender: 'female', ...extra });
const condition = (code: string, extra: Record<string, unknown> = {}): FhirResource => ({
  resourceType: 'Condition',
  id: `c-${code}-${Math.random().toString(36).slice(2, 6)}`,
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code }] },
  subject: { reference: 'Patient/p1' },
  ...extra,
});
const obs = (loinc: string, when: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}): FhirResource => ({
  resourceType: 'Observation',
  id: `o-${loinc}-${when}`,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: when,
  ...value,
  ...extra,
});
const qty = (value: number, code: string) => ({ valueQuantity: { value, unit: code, system: 'http://unitsofmeasure.org', code } });
const smoking = (when: string, snomed: string) => obs('72166-2', when, { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: snomed }] } });
const derive = (resources: FhirResource[]) => deriveAttributes(resources, { now: NOW });

function refusal(resources: FhirResource[]): AttributesError {
  try {
    derive(resources);
  } catch (err) {
    expect(err).toBeInstanceOf(AttributesError);
    expect((err as AttributesError).code).toBe('ATTRIBUTES_INVALID');
    return err as AttributesError;
  }
  throw new Error('expected an AttributesError');
}

describe('deriveAttributes on synthetic patients', () => {
  const bundles = synthesizeBundles({ patients: 200, seed: 'zk-attributes' });

  it('matches each bundle: birth date, sex, active conditions newest first, latest measures, smoker from F17', () => {
    let withConditions = 0;
    let smokers = 0;
    for (const b of bundles) {
      const resources = b.entry.map((e) => e.resource);
      const a = derive(resources);
      const p = resources[0] as unknown as { birthDate: string; gender: string };
      expect(a.birthDate).toBe(p.birthDate);
      expect(a.sex).toBe(p.gender);

      const conds = resources.filter((r) => r.resourceType === 'Condition') as unknown as Array<{ code: { coding: Array<{ code: string }> }; onsetDateTime: string }>;
      const expected = [...conds].sort((x, y) => y.onsetDateTime.localeCompare(x.onsetDateTime) || x.code.coding[0]!.code.localeCompare(y.code.coding[0]!.code)).map((c) => c.code.coding[0]!.code);
      expect(a.conditions).toEqual(expected);
      if (expected.length > 0) withConditions++;

      const latest = (loinc: string) => {
        const list = resources.filter((r) => r.resourceType === 'Observation' && (r.code as { coding: Array<{ code: string }> }).coding[0]!.code === loinc) as unknown as Array<{ effectiveDateTime: string; valueQuantity?: { value: number }; valueInteger?: number }>;
        let best: (typeof list)[number] | undefined;
        for (const o of list) if (!best || o.effectiveDateTime >= best.effectiveDateTime) best = o;
        return best && (best.valueQuantity?.value ?? best.valueInteger);
      };
      expect(a.measures.hba1c).toBe(latest('4548-4'));
      expect(a.measures.glucose).toBe(latest('2345-7') === undefined ? undefined : Math.round(latest('2345-7')!));
      expect(a.measures.cholesterol).toBe(latest('2093-3') === undefined ? undefined : Math.round(latest('2093-3')!));
      expect(a.measures.bmi).toBe(latest('39156-5'));
      expect(a.measures.phq9).toBe(latest('44261-6'));

      expect(a.smoker).toBe(expected.includes('F17.210') ? 'current' : 'unknown');
      if (a.smoker === 'current') smokers++;
      // What the issuer derives, the circuit's encoding accepts.
      expect(encodeAttributes(a)).toHaveLength(16);
    }
    expect(withConditions).toBeGreaterThan(100);
    expect(smokers).toBeGreaterThan(10);
  });
});

describe('deriveAttributes rules', () => {
  it('takes the latest observation by effective time, whatever the input order', () => {
    const a = derive([patient(), obs('4548-4', '2024-05-01T09:00:00Z', qty(7.4, '%')), obs('4548-4', '2025-03-01T09:00:00Z', qty(6.1, '%')), obs('4548-4', '2023-01-01T09:00:00Z', qty(9.9, '%'))]);
    expect(a.measures.hba1c).toBe(6.1);
  });

  it('skips preliminary and entered-in-error observations', () => {
    const a = derive([patient(), obs('2345-7', '2024-01-01T00:00:00Z', qty(101, 'mg/dL')), obs('2345-7', '2025-01-01T00:00:00Z', qty(300, 'mg/dL'), { status: 'preliminary' }), obs('2345-7', '2025-02-01T00:00:00Z', qty(400, 'mg/dL'), { status: 'entered-in-error' })]);
    expect(a.measures.glucose).toBe(101);
  });

  it('rounds to the measure\'s decimals', () => {
    const a = derive([patient(), obs('4548-4', '2025-01-01', qty(6.25, '%')), obs('2345-7', '2025-01-01', qty(99.5, 'mg/dL')), obs('39156-5', '2025-01-01', qty(27.349, 'kg/m2'))]);
    expect(a.measures).toEqual({ hba1c: 6.3, glucose: 100, bmi: 27.3 });
  });

  it('converts mmol/L glucose and cholesterol and IFCC HbA1c, and refuses a unit it cannot read', () => {
    const a = derive([patient(), obs('2345-7', '2025-01-01', qty(5.5, 'mmol/L')), obs('2093-3', '2025-01-01', qty(5.2, 'mmol/L')), obs('4548-4', '2025-01-01', qty(53, 'mmol/mol'))]);
    expect(a.measures).toEqual({ glucose: 99, cholesterol: 201, hba1c: 7 });
    expect(refusal([patient(), obs('4548-4', '2025-01-01', qty(7, 'g/dL'))]).message).toMatch(/the latest HbA1c, is in "g\/dL"; a credential carries it in %/);
    expect(refusal([patient(), obs('39156-5', '2025-01-01', { valueQuantity: { value: 27 } })]).message).toMatch(/the latest BMI, has no unit/);
    expect(refusal([patient(), obs('2345-7', '2025-01-01', qty(2500, 'mg/dL'))]).message).toMatch(/is 2500 mg\/dL, outside 0 to 2000/);
    expect(refusal([patient(), obs('2345-7', '2025-01-01', { valueString: 'high' })]).message).toMatch(/has no numeric value/);
  });

  it('reads PHQ-9 from an integer or a {score} quantity', () => {
    expect(derive([patient(), obs('44261-6', '2025-01-01', { valueInteger: 12 })]).measures.phq9).toBe(12);
    expect(derive([patient(), obs('44261-6', '2025-01-01', qty(8, '{score}'))]).measures.phq9).toBe(8);
  });

  it('keeps active conditions only, deduplicated (dotted or not), most recent first', () => {
    const resolved = { clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] } };
    const a = derive([
      patient(),
      condition('I10', { onsetDateTime: '2010-01-01' }),
      condition('E119', { onsetDateTime: '2020-01-01' }),
      condition('E11.9', { recordedDate: '2024-01-01' }),
      condition('J45.909', { onsetDateTime: '2022-06-01' }),
      condition('F32.9', { ...resolved, onsetDateTime: '2025-01-01' }),
      condition('F41.1', { verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] } }),
      condition('K21.9', { clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'recurrence' }] } }),
      { ...condition('Z00.0'), code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] } },
    ]);
    expect(a.conditions).toEqual(['E11.9', 'J45.909', 'I10', 'K21.9']);
  });

  it(`refuses more than ${MAX_CONDITIONS} active conditions, naming them, rather than leaving one out`, () => {
    const codes = ['E11.9', 'I10', 'J45.909', 'F32.9', 'F41.1', 'F10.20', 'F17.210', 'K21.9', 'M54.5'];
    const err = refusal([patient(), ...codes.map((c, i) => condition(c, { onsetDateTime: `20${10 + i}-01-01` }))]);
    expect(err.message).toMatch(/9 active ICD-10-CM conditions \(M54.5, K21.9, F17.210/);
    expect(err.message).toMatch(/at most 8/);
    expect(derive([patient(), ...codes.slice(0, MAX_CONDITIONS).map((c) => condition(c))]).conditions).toHaveLength(MAX_CONDITIONS);
  });

  it('refuses an ICD-10-CM code that is not shaped like one', () => {
    expect(refusal([patient(), condition('diabetes')]).message).toMatch(/has the ICD-10-CM code "diabetes", which is not shaped like one/);
    expect(normalizeIcd10('e11.65')).toBe('E11.65');
    expect(normalizeIcd10('F17210')).toBe('F17.210');
    expect(normalizeIcd10('I10')).toBe('I10');
    expect(normalizeIcd10('E11.12345')).toBeNull();
  });

  it('smoker: the latest 72166-2 answer first, then F17.* (current) or Z87.891 (former), else unknown', () => {
    expect(derive([patient()]).smoker).toBe('unknown');
    expect(derive([patient(), condition('F17.210')]).smoker).toBe('current');
    expect(derive([patient(), condition('Z87.891')]).smoker).toBe('former');
    expect(derive([patient(), smoking('2020-01-01', '449868002'), smoking('2024-01-01', '8517006')]).smoker).toBe('former');
    expect(derive([patient(), smoking('2024-01-01', '266919005')]).smoker).toBe('never');
    expect(derive([patient(), smoking('2024-01-01', '428041000124106')]).smoker).toBe('current');
    expect(derive([patient(), smoking('2024-01-01', '77176002')]).smoker).toBe('current');
    // "Unknown if ever smoked" says nothing, so a nicotine-dependence diagnosis still counts.
    expect(derive([patient(), smoking('2024-01-01', '266927001'), condition('F17.290')]).smoker).toBe('current');
    // The observation is the more specific statement.
    expect(derive([patient(), smoking('2024-01-01', '8517006'), condition('F17.210')]).smoker).toBe('former');
  });

  it('sex from the Patient\'s gender; no gender is unknown', () => {
    expect(derive([patient({ gender: 'male' })]).sex).toBe('male');
    expect(derive([patient({ gender: 'other' })]).sex).toBe('other');
    expect(derive([patient({ gender: undefined })]).sex).toBe('unknown');
  });
});

describe('deriveAttributes refusals', () => {
  it('no Patient, two Patients, the same Patient twice', () => {
    expect(refusal([condition('I10')]).message).toMatch(/no Patient resource/);
    expect(refusal([patient(), patient({ id: 'p2' })]).message).toMatch(/2 different Patients \(p1, p2\)/);
    expect(refusal([patient(), patient()]).message).toMatch(/Patient p1 2 times/);
  });

  it('no birthDate, a partial one, one in the future, one before 1900, one that is not a date', () => {
    expect(refusal([patient({ birthDate: undefined })]).message).toMatch(/no birthDate/);
    expect(refusal([patient({ birthDate: '1970' })]).message).toMatch(/"1970" is not a full date/);
    expect(refusal([patient({ birthDate: '2026-06-01' })]).message).toMatch(/in the future/);
    expect(refusal([patient({ birthDate: '1899-12-31' })]).message).toMatch(/before 1900/);
    expect(refusal([patient({ birthDate: '1970-02-30' })]).message).toMatch(/not a calendar date/);
  });

  it('a resource about another patient', () => {
    expect(refusal([patient(), condition('I10', { subject: { reference: 'Patient/p2' } })]).message).toMatch(/is about Patient\/p2, not Patient\/p1/);
  });
});
