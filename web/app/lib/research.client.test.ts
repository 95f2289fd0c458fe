// The researcher page's pure parts: the criteria builder's form to the criteria language (what the
// language and the circuit refuse, in words with the form's labels), the dataset as NDJSON and as
// CSV (columns, quoting, what each column takes from each kind of resource), and the price parser.
import { describe, expect, it } from 'vitest';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { criteriaFromForm, CSV_COLUMNS, EMPTY_CRITERIA_FORM, parsePrice, toCsv, toNdjson, type CriteriaForm } from './research.client.ts';

const form = (patch: Partial<CriteriaForm>): CriteriaForm => ({ ...EMPTY_CRITERIA_FORM, ...patch });
const withMeasure = (name: keyof CriteriaForm['measures'], min: string, max = ''): Partial<CriteriaForm> => ({
  measures: { ...EMPTY_CRITERIA_FORM.measures, [name]: { min, max } },
});

describe('criteriaFromForm', () => {
  it('builds the demo study’s criteria from the form, with the same hash as written by hand', () => {
    const { criteria, problems } = criteriaFromForm(form({ ageMin: '18', ageMax: '90', anyOf: 'e11.*', ...withMeasure('hba1c', '6.5') }));
    expect(problems).toEqual([]);
    expect(criteria).toEqual({ version: 1, age: { min: 18, max: 90 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } });
    expect(compileCriteria(criteria!).criteriaHash).toBe(compileCriteria({ version: 1, age: { min: 18, max: 90 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } }).criteriaHash);
  });

  it('takes every kind of criterion', () => {
    const { criteria, problems } = criteriaFromForm(
      form({ sex: ['female'], smoker: ['never', 'former'], noneOf: 'F17.*, C*', anyOf: 'I10 E11.9', credentialMaxAgeDays: '30', ...withMeasure('bmi', '25', '40') }),
    );
    expect(problems).toEqual([]);
    expect(criteria).toEqual({
      version: 1,
      sex: ['female'],
      smoker: ['never', 'former'],
      bmi: { min: 25, max: 40 },
      conditions: { anyOf: ['I10', 'E11.9'], noneOf: ['F17.*', 'C*'] },
      credentialMaxAgeDays: 30,
    });
  });

  it('refuses in words, with the form’s labels, what the language and the circuit refuse', () => {
    expect(criteriaFromForm(form({})).problems).toEqual(['Give at least one criterion: a study open to every credential holder cannot be told apart from none']);
    expect(criteriaFromForm(form({ ageMin: 'eighteen' })).problems).toEqual(['Age minimum: "eighteen" is not a number']);
    expect(criteriaFromForm(form({ ageMin: '60', ageMax: '18' })).problems).toEqual(['Age: min must not exceed max']);
    expect(criteriaFromForm(form({ ageMin: '18.5' })).problems).toEqual(['Age: bounds are whole years from 0, not 18.5']);
    // HbA1c is carried with one decimal: a finer bound would silently become a weaker one.
    expect(criteriaFromForm(form(withMeasure('hba1c', '6.55'))).problems).toEqual(['HbA1c: the bound 6.55 % has more than 1 decimal, which is all a credential carries']);
    expect(criteriaFromForm(form(withMeasure('phq9', '30'))).problems[0]).toMatch(/^PHQ-9 depression score minimum: /);
    expect(criteriaFromForm(form({ anyOf: 'E11.* I10 J45 K21 N18' })).problems).toEqual(['Diagnosed with any of: at most 4 codes or prefixes in anyOf']);
    expect(criteriaFromForm(form({ noneOf: 'diabetes' })).problems[0]).toMatch(/^Not diagnosed with, entry 1: must be an ICD-10-CM code/);
    expect(criteriaFromForm(form({ credentialMaxAgeDays: '0' })).problems[0]).toMatch(/^Credential freshness: /);
  });
});

const patient: FhirResource = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1961' };
const hba1c: FhirResource = {
  resourceType: 'Observation',
  id: 'o1',
  code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }] },
  valueQuantity: { value: 6.9, unit: '%' },
  effectiveDateTime: '2024',
};
const smoking: FhirResource = {
  resourceType: 'Observation',
  id: 'o2',
  code: { coding: [{ system: 'http://loinc.org', code: '72166-2', display: 'Tobacco smoking status' }] },
  valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '8517006', display: 'Ex-smoker' }] },
  effectivePeriod: { start: '2019' },
};
const condition: FhirResource = {
  resourceType: 'Condition',
  id: 'c1',
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9', display: 'Type 2 diabetes mellitus, without complications' }] },
  onsetDateTime: '2015',
};
const medication: FhirResource = { resourceType: 'MedicationStatement', id: 'm1', medicationCodeableConcept: { text: 'metformin 500 mg, "extended"' } };

describe('the dataset as files', () => {
  it('NDJSON: one resource per line, each parses back', () => {
    const text = toNdjson([patient, hba1c]);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([patient, hba1c]);
    expect(toNdjson([])).toBe('');
  });

  it('CSV: a header, then resourceType, id, code, value and year for each resource, quoted as RFC 4180', () => {
    const lines = toCsv([patient, hba1c, smoking, condition, medication]).split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.slice(1)).toEqual([
      'Patient,p1,,,1961',
      'Observation,o1,http://loinc.org|4548-4|Hemoglobin A1c/Hemoglobin.total in Blood,6.9 %,2024',
      'Observation,o2,http://loinc.org|72166-2|Tobacco smoking status,Ex-smoker,2019',
      'Condition,c1,"http://hl7.org/fhir/sid/icd-10-cm|E11.9|Type 2 diabetes mellitus, without complications",,2015',
      'MedicationStatement,m1,"||metformin 500 mg, ""extended""",,',
      '',
    ]);
  });
});

describe('parsePrice', () => {
  it('reads a price in the token’s units, and refuses what is not one', () => {
    expect(parsePrice('5', 6)).toEqual({ amount: 5_000_000n });
    expect(parsePrice(' 2.25 ', 6)).toEqual({ amount: 2_250_000n });
    expect(parsePrice('0', 6)).toEqual({ problem: 'A study pays its participants: the price must be more than 0' });
    expect(parsePrice('1.2345678', 6)).toEqual({ problem: 'The price has at most 6 decimals' });
    expect(parsePrice('-1', 6)).toEqual({ problem: 'The price per participant is a number such as 5 or 2.50' });
  });
});
