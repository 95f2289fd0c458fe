/**
 * What an issuer attests about a patient, derived from the patient's FHIR records (browser-safe):
 * birth date and sex from the Patient; active ICD-10-CM conditions; the latest value of each
 * measure (MEASURES) with its unit checked; smoking status. See docs/decisions/019-issuers-and-attributes.md.
 *
 * A credential is signed over these values and a study's exclusion criteria rely on them being
 * complete, so anything that would make them quietly wrong (two patients, a unit we cannot read,
 * more active conditions than a credential carries) is refused in words rather than guessed at.
 */
import type { FhirResource } from '../records/fhir-types.ts';
import { AttributesError } from './layout.ts';
import { MAX_CONDITIONS, MEASURES, MEASURE_NAMES, type Attributes, type MeasureName, type Sex, type SmokerStatus } from './types.ts';

export { AttributesError };

export const ICD10_CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
/** LOINC "Tobacco smoking status". */
export const SMOKING_STATUS_LOINC = '72166-2';

/** SNOMED CT answers to 72166-2 (the US Core smoking-status value set), by status. Others read as unknown. */
export const SMOKING_ANSWERS: Readonly<Record<string, SmokerStatus>> = {
  '449868002': 'current', // current every day smoker
  '428041000124106': 'current', // current some day smoker
  '77176002': 'current', // smoker, current status unknown
  '428071000124103': 'current', // current heavy tobacco smoker
  '428061000124105': 'current', // current light tobacco smoker
  '8517006': 'former', // ex-smoker
  '266919005': 'never', // never smoked tobacco
  '266927001': 'unknown', // unknown if ever smoked
};

/** Condition clinical statuses that mean "the patient has it now" (FHIR condition-clinical). */
const ACTIVE_STATUSES = new Set(['active', 'recurrence', 'relapse']);
/** Verification statuses that mean the condition is not (or no longer) asserted. */
const DISCARDED_VERIFICATION = new Set(['refuted', 'entered-in-error']);
/** Observation statuses whose value stands. */
const FINAL_STATUSES = new Set(['final', 'amended', 'corrected']);

/**
 * Units other than the measure's own that are converted (well-known, fixed factors); anything else
 * is refused. Keys are UCUM codes.
 */
const CONVERSIONS: Partial<Record<MeasureName, Record<string, (v: number) => number>>> = {
  // IFCC mmol/mol → NGSP %: the IFCC–NGSP master equation.
  hba1c: { 'mmol/mol': (v) => v * 0.09148 + 2.152 },
  // Glucose molar mass 180.16 g/mol.
  glucose: { 'mmol/L': (v) => v * 18.016 },
  // Cholesterol molar mass 386.65 g/mol.
  cholesterol: { 'mmol/L': (v) => v * 38.665 },
};

/** Spellings that mean the measure's own unit (UCUM code first). */
const SAME_UNIT: Record<MeasureName, readonly string[]> = {
  hba1c: ['%'],
  glucose: ['mg/dL'],
  cholesterol: ['mg/dL'],
  bmi: ['kg/m2', 'kg/m^2'],
  phq9: ['{score}', 'score', '1', '{Score}'],
};

export interface DeriveOptions {
  /** "Now" for checking the birth date (default: the current time). */
  now?: Date;
}

type Coding = { system?: unknown; code?: unknown };
type Reference = { reference?: unknown };

const codings = (concept: unknown): Coding[] => {
  const list = (concept as { coding?: unknown } | undefined)?.coding;
  return Array.isArray(list) ? (list.filter((c) => c && typeof c === 'object') as Coding[]) : [];
};
const codesOf = (concept: unknown, system: string): string[] =>
  codings(concept)
    .filter((c) => c.system === system && typeof c.code === 'string')
    .map((c) => (c.code as string).trim());

/** A FHIR date/dateTime/instant as milliseconds (partial dates at their start), or null. */
function timeOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

const label = (r: FhirResource) => (r.id ? `${r.resourceType}/${r.id}` : `a ${r.resourceType}`);

/**
 * An ICD-10-CM code in its dotted form (`E119` → `E11.9`), or null when it is not shaped like one
 * (a letter, a digit, a letter or digit, then up to four more after an optional dot).
 */
export function normalizeIcd10(code: string): string | null {
  const m = /^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})$/.exec(code.trim().toUpperCase());
  if (!m) return null;
  return m[2] ? `${m[1]}.${m[2]}` : m[1]!;
}

function onePatient(resources: FhirResource[]): FhirResource {
  const patients = resources.filter((r) => r.resourceType === 'Patient');
  if (patients.length === 0) throw new AttributesError('The records hold no Patient resource, so there is no birth date or sex to attest');
  const ids = new Set(patients.map((p) => p.id ?? '(no id)'));
  if (ids.size > 1) {
    throw new AttributesError(`The records hold ${ids.size} different Patients (${[...ids].join(', ')}); a credential is about one patient`);
  }
  if (patients.length > 1) throw new AttributesError(`The records hold the Patient ${patients[0]!.id ?? ''} ${patients.length} times; send it once`);
  return patients[0]!;
}

/** Refuses a resource that names another patient as its subject (the records were mixed up). */
function checkSubject(r: FhirResource, patientId: string | undefined): void {
  if (!patientId) return;
  const ref = ((r.subject ?? r.patient) as Reference | undefined)?.reference;
  if (typeof ref !== 'string') return;
  const m = /(?:^|\/)Patient\/([^/]+)$/.exec(ref);
  if (m && m[1] !== patientId) {
    throw new AttributesError(`${label(r)} is about Patient/${m[1]}, not Patient/${patientId}; the records mix two patients`);
  }
}

function birthDateOf(patient: FhirResource, now: Date): string {
  const birthDate = patient.birthDate;
  if (typeof birthDate !== 'string' || birthDate === '') throw new AttributesError('The Patient has no birthDate, so no age can be attested');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) {
    throw new AttributesError(`The Patient's birthDate ${JSON.stringify(birthDate)} is not a full date (YYYY-MM-DD); an age range cannot be checked against a partial one`);
  }
  const t = Date.parse(`${birthDate}T00:00:00Z`);
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== birthDate) throw new AttributesError(`The Patient's birthDate ${birthDate} is not a calendar date`);
  if (birthDate < '1900-01-01') throw new AttributesError(`The Patient's birthDate ${birthDate} is before 1900, which a credential cannot carry`);
  if (t > now.getTime()) throw new AttributesError(`The Patient's birthDate ${birthDate} is in the future`);
  return birthDate;
}

function sexOf(patient: FhirResource): Sex {
  const gender = patient.gender;
  if (gender === undefined) return 'unknown';
  if (gender === 'male' || gender === 'female' || gender === 'other' || gender === 'unknown') return gender;
  throw new AttributesError(`The Patient's gender ${JSON.stringify(gender)} is not one of male, female, other, unknown`);
}

/** When a condition was last asserted: recorded, else onset (for ordering "most recent first"). */
const conditionTime = (r: FhirResource): number | null =>
  timeOf(r.recordedDate) ?? timeOf(r.onsetDateTime) ?? timeOf((r.onsetPeriod as { start?: unknown } | undefined)?.start);

function activeConditions(resources: FhirResource[]): Array<{ code: string; time: number | null }> {
  const latest = new Map<string, number | null>();
  for (const r of resources) {
    if (r.resourceType !== 'Condition') continue;
    if (!codesOf(r.clinicalStatus, 'http://terminology.hl7.org/CodeSystem/condition-clinical').some((s) => ACTIVE_STATUSES.has(s))) continue;
    if (codesOf(r.verificationStatus, 'http://terminology.hl7.org/CodeSystem/condition-ver-status').some((s) => DISCARDED_VERIFICATION.has(s))) continue;
    for (const raw of codesOf(r.code, ICD10_CM)) {
      const code = normalizeIcd10(raw);
      if (!code) throw new AttributesError(`${label(r)} has the ICD-10-CM code ${JSON.stringify(raw)}, which is not shaped like one (such as E11.9)`);
      const t = conditionTime(r);
      const seen = latest.get(code);
      if (!latest.has(code) || (t !== null && (seen === null || seen === undefined || t > seen))) latest.set(code, t);
    }
  }
  // Most recent first; undated last; the code breaks ties so the order never depends on the input's.
  return [...latest]
    .map(([code, time]) => ({ code, time }))
    .sort((a, b) => (b.time ?? -Infinity) - (a.time ?? -Infinity) || a.code.localeCompare(b.code));
}

/** When an observation was made: effective[x], else issued. */
const observationTime = (r: FhirResource): number | null =>
  timeOf(r.effectiveDateTime) ??
  timeOf(r.effectiveInstant) ??
  timeOf((r.effectivePeriod as { start?: unknown } | undefined)?.start) ??
  timeOf(r.issued);

/** The latest final observation with one of `loinc`; later in the input wins a tie. */
function latestObservation(resources: FhirResource[], loinc: readonly string[]): FhirResource | undefined {
  let best: FhirResource | undefined;
  let bestTime = -Infinity;
  for (const r of resources) {
    if (r.resourceType !== 'Observation' || !FINAL_STATUSES.has(String(r.status))) continue;
    if (!codesOf(r.code, LOINC).some((c) => loinc.includes(c))) continue;
    const t = observationTime(r) ?? -Infinity;
    if (!best || t >= bestTime) {
      best = r;
      bestTime = t;
    }
  }
  return best;
}

function measureValue(name: MeasureName, r: FhirResource): number {
  const m = MEASURES[name];
  let value: number;
  let unit: string | undefined;
  if (typeof r.valueInteger === 'number') value = r.valueInteger;
  else if (typeof r.valueDecimal === 'number') value = r.valueDecimal;
  else {
    const q = r.valueQuantity as { value?: unknown; unit?: unknown; system?: unknown; code?: unknown } | undefined;
    if (!q || typeof q.value !== 'number') throw new AttributesError(`${label(r)}, the latest ${m.label}, has no numeric value`);
    value = q.value;
    // The UCUM code when there is one; else the display unit (often the same text).
    if ((q.system === UCUM || q.system === undefined) && typeof q.code === 'string') unit = q.code;
    else if (typeof q.unit === 'string') unit = q.unit;
  }
  if (unit !== undefined && !SAME_UNIT[name].includes(unit)) {
    const convert = CONVERSIONS[name]?.[unit];
    if (!convert) {
      throw new AttributesError(`${label(r)}, the latest ${m.label}, is in ${JSON.stringify(unit)}; a credential carries it in ${m.unit}${CONVERSIONS[name] ? ` (or converted from ${Object.keys(CONVERSIONS[name]!).join(', ')})` : ''}`);
    }
    value = convert(value);
  } else if (unit === undefined && name !== 'phq9') {
    throw new AttributesError(`${label(r)}, the latest ${m.label}, has no unit; a credential carries it in ${m.unit}`);
  }
  const scale = 10 ** m.decimals;
  const rounded = Math.round(value * scale) / scale;
  if (!Number.isFinite(rounded) || rounded < 0 || rounded > m.max) {
    throw new AttributesError(`${label(r)}, the latest ${m.label}, is ${value} ${m.unit}, outside 0 to ${m.max}`);
  }
  return rounded;
}

function smokerOf(resources: FhirResource[], conditions: readonly string[]): SmokerStatus {
  const obs = latestObservation(resources, [SMOKING_STATUS_LOINC]);
  if (obs) {
    const answer = codesOf(obs.valueCodeableConcept, SNOMED).map((c) => SMOKING_ANSWERS[c]).find((s) => s !== undefined);
    if (answer && answer !== 'unknown') return answer;
  }
  // Nicotine dependence (F17.*) is current use; a personal history of it (Z87.891) is former use.
  if (conditions.some((c) => c.startsWith('F17'))) return 'current';
  if (conditions.includes('Z87.891')) return 'former';
  return 'unknown';
}

/**
 * The attributes a credential attests, from one patient's FHIR resources (already validated as
 * FHIR). Conditions are the active ICD-10-CM ones, most recent first; measures the latest final
 * observation of each kind, rounded to the measure's decimals.
 *
 * @throws AttributesError (code ATTRIBUTES_INVALID), in words: no Patient or more than one, no or a
 *   partial birthDate, resources about another patient, a unit that cannot be read, a value out of
 *   range, or more than MAX_CONDITIONS active conditions (refused rather than cut: leaving one out
 *   could let a study's exclusion criterion pass).
 */
export function deriveAttributes(resources: FhirResource[], opts: DeriveOptions = {}): Attributes {
  const now = opts.now ?? new Date();
  const patient = onePatient(resources);
  for (const r of resources) checkSubject(r, patient.id);

  const conditions = activeConditions(resources).map((c) => c.code);
  if (conditions.length > MAX_CONDITIONS) {
    throw new AttributesError(
      `The records list ${conditions.length} active ICD-10-CM conditions (${conditions.join(', ')}); a credential carries at most ${MAX_CONDITIONS}, ` +
        'and leaving any out could let a study that excludes it accept the patient. Mark resolved conditions as resolved or inactive in the records.',
    );
  }
  const measures: Attributes['measures'] = {};
  for (const name of MEASURE_NAMES) {
    const obs = latestObservation(resources, MEASURES[name].loinc);
    if (obs) measures[name] = measureValue(name, obs);
  }
  return {
    birthDate: birthDateOf(patient, now),
    sex: sexOf(patient),
    smoker: smokerOf(resources, conditions),
    conditions,
    measures,
  };
}
