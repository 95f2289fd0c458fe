/**
 * Synthetic FHIR R4 data (browser-safe), deterministic from a seed. Nothing here is real: names
 * come from small built-in lists and are marked synthetic; ids derive from the seed.
 */
import type { FhirResource } from '../records/fhir-types.ts';

export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'collection';
  id: string;
  entry: Array<{ fullUrl: string; resource: FhirResource }>;
}

/** mulberry32 over a 32-bit FNV-1a hash of the seed: small, fast, and the same on every platform. */
export function prng(seed: string | number): () => number {
  let h = 0x811c9dc5;
  for (const ch of String(seed)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = ['Ada', 'Bo', 'Cai', 'Dara', 'Eli', 'Fen', 'Gus', 'Hana', 'Ivo', 'Juno', 'Kit', 'Lior'];
const FAMILY = ['Synthmoor', 'Testwell', 'Fakeley', 'Mockridge', 'Samplesson', 'Dummington'];
const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
const LOINC = 'http://loinc.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const CVX = 'http://hl7.org/fhir/sid/cvx';
const SNOMED = 'http://snomed.info/sct';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

/** Conditions with the share of patients who get them. */
const CONDITIONS: Array<[code: string, display: string, share: number]> = [
  ['E11.9', 'Type 2 diabetes mellitus without complications', 0.3],
  ['I10', 'Essential (primary) hypertension', 0.35],
  ['J45.909', 'Unspecified asthma, uncomplicated', 0.12],
  ['F32.9', 'Major depressive disorder, single episode, unspecified', 0.15],
  ['F41.1', 'Generalized anxiety disorder', 0.12],
  ['F10.20', 'Alcohol dependence, uncomplicated', 0.06],
  ['F17.210', 'Nicotine dependence, cigarettes, uncomplicated', 0.15],
];
/** Lab and vital observations: LOINC, display, unit, mean, spread, category. */
const OBSERVATIONS: Array<[string, string, string, number, number, 'laboratory' | 'vital-signs' | 'survey']> = [
  ['4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 6.2, 1.2, 'laboratory'],
  ['2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'mg/dL', 105, 25, 'laboratory'],
  ['2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 195, 35, 'laboratory'],
  ['39156-5', 'Body mass index (BMI) [Ratio]', 'kg/m2', 27.5, 5, 'vital-signs'],
];
const MEDICATIONS: Array<[string, string]> = [
  ['860975', 'metformin hydrochloride 500 MG Oral Tablet'],
  ['314076', 'lisinopril 10 MG Oral Tablet'],
  ['745679', 'albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'],
  ['312938', 'sertraline 50 MG Oral Tablet'],
];
const ALLERGIES: Array<[string, string]> = [
  ['91936005', 'Allergy to penicillin'],
  ['300913006', 'Shellfish allergy'],
  ['418689008', 'Allergy to grass pollen'],
];
const VACCINES: Array<[string, string]> = [
  ['140', 'Influenza, seasonal, injectable, preservative free'],
  ['208', 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose'],
  ['115', 'Tdap'],
];

export interface SynthOptions {
  patients: number;
  seed: string | number;
}

/** One collection Bundle per patient: demographics, conditions, labs, medications, allergies, immunizations, a procedure, a note. */
export function synthesizeBundles({ patients, seed }: SynthOptions): FhirBundle[] {
  if (!Number.isInteger(patients) || patients < 0) throw new RangeError('patients must be a whole number');
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  const date = (fromYear: number, toYear: number) => {
    const y = fromYear + Math.floor(rand() * (toYear - fromYear + 1));
    const m = 1 + Math.floor(rand() * 12);
    const d = 1 + Math.floor(rand() * 28);
    return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  };
  const prefix = `synth-${String(seed).replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 24)}`;

  return Array.from({ length: patients }, (_, p) => {
    const pid = `${prefix}-p${p}`;
    const subject = { reference: `Patient/${pid}` };
    const resources: FhirResource[] = [];
    let n = 0;
    const id = (kind: string) => `${pid}-${kind}${n++}`;

    resources.push({
      resourceType: 'Patient',
      id: pid,
      meta: { tag: [{ system: 'urn:consentry:synthetic', code: 'synthetic' }] },
      name: [{ family: pick(FAMILY), given: [pick(GIVEN)], text: 'synthetic test patient' }],
      gender: rand() < 0.5 ? 'female' : 'male',
      birthDate: date(1935, 2005),
      address: [{ postalCode: String(10000 + Math.floor(rand() * 89999)), country: 'US' }],
    });
    for (const [code, display, share] of CONDITIONS) {
      if (rand() >= share) continue;
      resources.push({
        resourceType: 'Condition',
        id: id('cond'),
        clinicalStatus: { coding: [{ system: CLINICAL, code: 'active' }] },
        code: { coding: [{ system: ICD10, code, display }] },
        subject,
        onsetDateTime: date(2005, 2024),
      });
    }
    for (const [code, display, unit, mean, spread, category] of OBSERVATIONS) {
      const times = 1 + Math.floor(rand() * 3);
      for (let t = 0; t < times; t++) {
        resources.push({
          resourceType: 'Observation',
          id: id('obs'),
          status: 'final',
          category: [{ coding: [{ system: OBS_CAT, code: category }] }],
          code: { coding: [{ system: LOINC, code, display }] },
          subject,
          effectiveDateTime: `${date(2019, 2025)}T09:00:00Z`,
          valueQuantity: { value: round(mean + (rand() * 2 - 1) * spread, 1), unit, system: 'http://unitsofmeasure.org', code: unit },
        });
      }
    }
    if (rand() < 0.25) {
      resources.push({
        resourceType: 'Observation',
        id: id('phq'),
        status: 'final',
        category: [{ coding: [{ system: OBS_CAT, code: 'survey' }] }],
        code: { coding: [{ system: LOINC, code: '44261-6', display: 'Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]' }] },
        subject,
        effectiveDateTime: `${date(2021, 2025)}T10:00:00Z`,
        valueInteger: Math.floor(rand() * 27),
      });
    }
    for (let m = 0; m < 1 + Math.floor(rand() * 2); m++) {
      const [code, display] = pick(MEDICATIONS);
      resources.push({
        resourceType: 'MedicationRequest',
        id: id('med'),
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { coding: [{ system: RXNORM, code, display }] },
        subject,
        authoredOn: date(2018, 2025),
      });
    }
    if (rand() < 0.4) {
      const [code, display] = pick(ALLERGIES);
      resources.push({
        resourceType: 'AllergyIntolerance',
        id: id('alg'),
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        patient: subject,
        code: { coding: [{ system: SNOMED, code, display }] },
      });
    }
    const [cvx, vaccine] = pick(VACCINES);
    resources.push({
      resourceType: 'Immunization',
      id: id('imm'),
      status: 'completed',
      vaccineCode: { coding: [{ system: CVX, code: cvx, display: vaccine }] },
      patient: subject,
      occurrenceDateTime: date(2020, 2025),
    });
    if (rand() < 0.3) {
      resources.push({
        resourceType: 'Procedure',
        id: id('proc'),
        status: 'completed',
        code: { coding: [{ system: SNOMED, code: '73761001', display: 'Colonoscopy' }] },
        subject,
        performedDateTime: date(2015, 2025),
      });
    }
    resources.push({
      resourceType: 'DocumentReference',
      id: id('note'),
      status: 'current',
      type: { coding: [{ system: LOINC, code: '11506-3', display: 'Progress note' }] },
      subject,
      content: [{ attachment: { contentType: 'text/plain', data: btoa('Synthetic progress note: patient doing well.') } }],
    });
    return {
      resourceType: 'Bundle',
      type: 'collection',
      id: `${pid}-bundle`,
      entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource })),
    };
  });
}
