/**
 * The category of a record, from one data table (browser-safe).
 *
 * A record's category decides who may see it (grants are category bitmasks), so sensitive
 * categories win: a Condition coded F32 is mental-health, not conditions; an Observation coded
 * AUDIT-C is substance-use, not labs. Rules are tried in order; the first that matches decides.
 */

export const CATEGORIES = [
  'labs',
  'medications',
  'allergies',
  'conditions',
  'procedures',
  'imaging',
  'immunizations',
  'notes',
  'mental-health',
  'substance-use',
  'genomics',
  'demographics',
  'other',
] as const;

export type Category = (typeof CATEGORIES)[number];

/** The bit of a category in an on-chain category bitmask (its position in CATEGORIES). */
export function categoryBit(category: Category): number {
  const bit = CATEGORIES.indexOf(category);
  if (bit < 0) throw new RangeError(`unknown category ${String(category)}`);
  return bit;
}

/** A bitmask with the bits of `categories` set. */
export function categoryMask(categories: readonly Category[]): number {
  return categories.reduce((mask, c) => mask | (1 << categoryBit(c)), 0);
}

export const SYSTEMS = {
  icd10: ['http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-cm'],
  snomed: ['http://snomed.info/sct'],
  loinc: ['http://loinc.org'],
  observationCategory: ['http://terminology.hl7.org/CodeSystem/observation-category'],
  v2DiagnosticService: ['http://terminology.hl7.org/CodeSystem/v2-0074'],
} as const;

type SystemName = keyof typeof SYSTEMS;

/** One row of the table: a category, why, and what matches (all given parts must match). */
export interface CategoryRule {
  category: Category;
  why: string;
  resourceTypes?: readonly string[];
  /** Clinical codes (`code`, `valueCodeableConcept`, `type`): a system and exact codes or a pattern. */
  codes?: { system: SystemName; codes?: readonly string[]; pattern?: RegExp };
  /** Category codes (`category`): a system and codes. */
  categoryCodes?: { system: SystemName; codes: readonly string[] };
}

export const CATEGORY_RULES: readonly CategoryRule[] = [
  // --- Sensitive categories first: they override the resource type's default. ---
  { category: 'substance-use', why: 'ICD-10 F10-F19: mental and behavioural disorders due to psychoactive substance use', codes: { system: 'icd10', pattern: /^F1\d/ } },
  {
    category: 'substance-use',
    why: 'SNOMED CT substance use disorders (alcohol/drug/nicotine dependence or abuse)',
    codes: { system: 'snomed', codes: ['66590003', '7200002', '15167005', '191816009', '26416006', '56294008'] },
  },
  { category: 'substance-use', why: 'LOINC AUDIT-C alcohol use screening', codes: { system: 'loinc', codes: ['72109-2', '68518-0'] } },
  { category: 'mental-health', why: 'ICD-10 F01-F99 other than F10-F19: mental and behavioural disorders', codes: { system: 'icd10', pattern: /^F(0[1-9]|[2-9]\d)/ } },
  {
    category: 'mental-health',
    why: 'SNOMED CT mental disorders (depression, anxiety, bipolar, schizophrenia, PTSD)',
    codes: { system: 'snomed', codes: ['35489007', '370143000', '197480006', '13746004', '58214004', '47505003'] },
  },
  {
    category: 'mental-health',
    why: 'LOINC PHQ-2/PHQ-9 depression and GAD-7 anxiety instruments',
    codes: { system: 'loinc', codes: ['55757-9', '44249-1', '44261-6', '69737-5', '70274-6'] },
  },
  { category: 'genomics', why: 'Molecular sequence data', resourceTypes: ['MolecularSequence'] },
  { category: 'genomics', why: 'LOINC genetic variant and genetic analysis results', codes: { system: 'loinc', codes: ['69548-6', '51969-4', '81247-9'] } },
  { category: 'genomics', why: 'HL7 v2 diagnostic service GE (genetics)', categoryCodes: { system: 'v2DiagnosticService', codes: ['GE'] } },
  // --- Category codes. ---
  { category: 'labs', why: 'Observation category laboratory', categoryCodes: { system: 'observationCategory', codes: ['laboratory'] } },
  { category: 'labs', why: 'Observation category vital-signs (measurements)', categoryCodes: { system: 'observationCategory', codes: ['vital-signs'] } },
  { category: 'imaging', why: 'Observation category imaging', categoryCodes: { system: 'observationCategory', codes: ['imaging'] } },
  { category: 'procedures', why: 'Observation category procedure', categoryCodes: { system: 'observationCategory', codes: ['procedure'] } },
  { category: 'labs', why: 'HL7 v2 diagnostic services LAB, HM, CH, MB (laboratory)', categoryCodes: { system: 'v2DiagnosticService', codes: ['LAB', 'HM', 'CH', 'MB'] } },
  { category: 'imaging', why: 'HL7 v2 diagnostic services RAD, CT, MR, US, NMR (imaging)', categoryCodes: { system: 'v2DiagnosticService', codes: ['RAD', 'CT', 'MR', 'US', 'NMR'] } },
  // --- Resource type defaults. ---
  { category: 'demographics', why: 'Patient demographics', resourceTypes: ['Patient', 'RelatedPerson'] },
  {
    category: 'medications',
    why: 'Medication resources',
    resourceTypes: ['MedicationRequest', 'MedicationStatement', 'MedicationAdministration', 'MedicationDispense', 'Medication'],
  },
  { category: 'allergies', why: 'Allergies and intolerances', resourceTypes: ['AllergyIntolerance'] },
  { category: 'conditions', why: 'Conditions and problems', resourceTypes: ['Condition'] },
  { category: 'procedures', why: 'Procedures', resourceTypes: ['Procedure'] },
  { category: 'imaging', why: 'Imaging studies', resourceTypes: ['ImagingStudy'] },
  { category: 'immunizations', why: 'Immunizations', resourceTypes: ['Immunization'] },
  { category: 'notes', why: 'Clinical documents and notes', resourceTypes: ['DocumentReference', 'ClinicalImpression', 'Composition'] },
  { category: 'labs', why: 'Diagnostic reports default to laboratory', resourceTypes: ['DiagnosticReport'] },
];

interface Coding {
  system?: unknown;
  code?: unknown;
}

/** Every Coding under the given top-level fields (CodeableConcept or arrays of them). */
function codingsOf(resource: Record<string, unknown>, fields: readonly string[]): Coding[] {
  const out: Coding[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const coding = (value as { coding?: unknown }).coding;
      if (Array.isArray(coding)) out.push(...coding.filter((c): c is Coding => Boolean(c) && typeof c === 'object'));
    }
  };
  for (const f of fields) visit(resource[f]);
  return out;
}

const CLINICAL_CODE_FIELDS = ['code', 'valueCodeableConcept', 'type', 'reasonCode', 'medicationCodeableConcept'] as const;

function matchesCodes(codings: Coding[], system: SystemName, codes?: readonly string[], pattern?: RegExp): boolean {
  const systems: readonly string[] = SYSTEMS[system];
  return codings.some(
    (c) =>
      typeof c.system === 'string' &&
      typeof c.code === 'string' &&
      systems.includes(c.system) &&
      ((codes?.includes(c.code) ?? false) || (pattern?.test(c.code) ?? false)),
  );
}

/** The rule that decides a resource's category (undefined: 'other'). */
export function categoryRuleFor(resource: { resourceType: string } & Record<string, unknown>): CategoryRule | undefined {
  const clinical = codingsOf(resource, CLINICAL_CODE_FIELDS);
  const categories = codingsOf(resource, ['category']);
  return CATEGORY_RULES.find((rule) => {
    if (rule.resourceTypes && !rule.resourceTypes.includes(resource.resourceType)) return false;
    if (rule.codes && !matchesCodes(clinical, rule.codes.system, rule.codes.codes, rule.codes.pattern)) return false;
    if (rule.categoryCodes && !matchesCodes(categories, rule.categoryCodes.system, rule.categoryCodes.codes)) return false;
    return Boolean(rule.resourceTypes || rule.codes || rule.categoryCodes);
  });
}

/** The category of a FHIR resource: see the table above. */
export function categorize(resource: { resourceType: string } & Record<string, unknown>): Category {
  return categoryRuleFor(resource)?.category ?? 'other';
}
