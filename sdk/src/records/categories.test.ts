import { describe, expect, it } from 'vitest';
import { CATEGORIES, CATEGORY_RULES, categorize, categoryBit, categoryMask, categoryRuleFor, type Category } from './categories.ts';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';
const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0074';

const cc = (system: string, code: string) => ({ coding: [{ system, code }] });
const condition = (system: string, code: string) => ({ resourceType: 'Condition', code: cc(system, code) });
const observation = (category: string | undefined, system = LOINC, code = '0000-0') => ({
  resourceType: 'Observation',
  ...(category ? { category: [cc(OBS_CAT, category)] } : {}),
  code: cc(system, code),
});

// One row per rule of the table (and the edges around the ICD-10 ranges).
const cases: Array<[string, Record<string, unknown> & { resourceType: string }, Category]> = [
  ['ICD-10 F10.20 alcohol dependence', condition(ICD10, 'F10.20'), 'substance-use'],
  ['ICD-10 F17.210 nicotine dependence', condition(ICD10, 'F17.210'), 'substance-use'],
  ['ICD-10 F19.10 other substance abuse', condition(ICD10, 'F19.10'), 'substance-use'],
  ['SNOMED 66590003 alcohol dependence', condition(SCT, '66590003'), 'substance-use'],
  ['LOINC 72109-2 AUDIT-C on an Observation', observation('survey', LOINC, '72109-2'), 'substance-use'],
  ['ICD-10 F32.9 depression', condition(ICD10, 'F32.9'), 'mental-health'],
  ['ICD-10 F41.1 generalised anxiety', condition(ICD10, 'F41.1'), 'mental-health'],
  ['ICD-10 F01.50 vascular dementia (range start)', condition(ICD10, 'F01.50'), 'mental-health'],
  ['ICD-10 F99 (range end)', condition(ICD10, 'F99'), 'mental-health'],
  ['ICD-10 F20.9 schizophrenia (just past F19)', condition(ICD10, 'F20.9'), 'mental-health'],
  ['SNOMED 35489007 depressive disorder', condition(SCT, '35489007'), 'mental-health'],
  ['LOINC 44249-1 PHQ-9 panel (laboratory category loses)', observation('laboratory', LOINC, '44249-1'), 'mental-health'],
  ['LOINC 69737-5 GAD-7', observation('survey', LOINC, '69737-5'), 'mental-health'],
  ['MolecularSequence', { resourceType: 'MolecularSequence' }, 'genomics'],
  ['LOINC 69548-6 genetic variant assessment', observation('laboratory', LOINC, '69548-6'), 'genomics'],
  ['DiagnosticReport category GE', { resourceType: 'DiagnosticReport', category: [cc(V2, 'GE')] }, 'genomics'],
  ['Observation laboratory (HbA1c)', observation('laboratory', LOINC, '4548-4'), 'labs'],
  ['Observation vital-signs (BMI)', observation('vital-signs', LOINC, '39156-5'), 'labs'],
  ['Observation imaging', observation('imaging'), 'imaging'],
  ['Observation procedure', observation('procedure'), 'procedures'],
  ['DiagnosticReport LAB', { resourceType: 'DiagnosticReport', category: [cc(V2, 'LAB')] }, 'labs'],
  ['DiagnosticReport RAD', { resourceType: 'DiagnosticReport', category: [cc(V2, 'RAD')] }, 'imaging'],
  ['Patient', { resourceType: 'Patient' }, 'demographics'],
  ['MedicationRequest', { resourceType: 'MedicationRequest' }, 'medications'],
  ['AllergyIntolerance', { resourceType: 'AllergyIntolerance' }, 'allergies'],
  ['Condition E11.9 diabetes', condition(ICD10, 'E11.9'), 'conditions'],
  ['Condition F-like code in another system stays a condition', condition('http://example.org/local', 'F32'), 'conditions'],
  ['Procedure', { resourceType: 'Procedure' }, 'procedures'],
  ['ImagingStudy', { resourceType: 'ImagingStudy' }, 'imaging'],
  ['Immunization', { resourceType: 'Immunization' }, 'immunizations'],
  ['DocumentReference', { resourceType: 'DocumentReference' }, 'notes'],
  ['DiagnosticReport with no category', { resourceType: 'DiagnosticReport' }, 'labs'],
  ['Observation social-history', observation('social-history'), 'other'],
  ['Encounter', { resourceType: 'Encounter' }, 'other'],
];

describe('categorize', () => {
  it.each(cases)('%s', (_name, resource, expected) => {
    expect(categorize(resource)).toBe(expected);
  });

  it('every rule of the table is exercised by a case above', () => {
    const used = new Set(cases.map(([, r]) => categoryRuleFor(r)).filter(Boolean));
    const unused = CATEGORY_RULES.filter((r) => !used.has(r)).map((r) => r.why);
    expect(unused).toEqual([]);
  });

  it('ignores malformed codings instead of throwing', () => {
    expect(categorize({ resourceType: 'Condition', code: { coding: [null, 7, { system: ICD10 }] } })).toBe('conditions');
  });
});

describe('category bits', () => {
  it('gives each category its own bit and builds masks', () => {
    expect(new Set(CATEGORIES.map(categoryBit)).size).toBe(CATEGORIES.length);
    expect(categoryBit('labs')).toBe(0);
    expect(categoryMask(['labs', 'medications'])).toBe(0b11);
    expect(categoryMask([])).toBe(0);
  });
});
