/**
 * The zero-knowledge eligibility vocabulary, in words (see docs/decisions/018-zk-circuit-and-setup.md):
 * what an issuer attests about a patient (`Attributes`), and what a study asks (`Criteria`, the
 * criteria language). `layout.ts` turns both into the circuit's field elements; `eligibility.ts`
 * checks them locally, criterion by criterion, before any proof.
 *
 * Browser-safe: no Node imports.
 */
import { z } from 'zod';

/** Sex as recorded on the FHIR Patient (administrative gender). */
export const SEXES = ['unknown', 'male', 'female', 'other'] as const;
export type Sex = (typeof SEXES)[number];

/** Tobacco smoking status, from a LOINC 72166-2 observation or a nicotine-dependence condition. */
export const SMOKER_STATUSES = ['unknown', 'never', 'former', 'current'] as const;
export type SmokerStatus = (typeof SMOKER_STATUSES)[number];

/**
 * The measured values a credential can carry, each the latest of its kind in the records, with the
 * unit and decimals it is encoded with (value × 10^decimals, a whole number). Absent = not measured.
 */
export const MEASURES = {
  hba1c: { loinc: ['4548-4'], unit: '%', decimals: 1, max: 30, label: 'HbA1c' },
  glucose: { loinc: ['2345-7'], unit: 'mg/dL', decimals: 0, max: 2000, label: 'Glucose' },
  cholesterol: { loinc: ['2093-3'], unit: 'mg/dL', decimals: 0, max: 1000, label: 'Total cholesterol' },
  bmi: { loinc: ['39156-5'], unit: 'kg/m2', decimals: 1, max: 200, label: 'BMI' },
  phq9: { loinc: ['44261-6'], unit: 'score', decimals: 0, max: 27, label: 'PHQ-9 depression score' },
} as const;
export type MeasureName = keyof typeof MEASURES;
export const MEASURE_NAMES = Object.keys(MEASURES) as MeasureName[];

/** How many condition codes one credential carries (the circuit's fixed slot count). */
export const MAX_CONDITIONS = 8;

/** What an issuer attests about one patient. Dates are ISO `YYYY-MM-DD`. */
export interface Attributes {
  birthDate: string;
  sex: Sex;
  smoker: SmokerStatus;
  /** ICD-10-CM codes of active conditions, dotted (`E11.9`), at most MAX_CONDITIONS. */
  conditions: string[];
  measures: Partial<Record<MeasureName, number>>;
}

/**
 * An ICD-10-CM code (`E11.9`, `F17.210`) or a prefix pattern ending in `*` (`E11.*`, `E1*`, `F*`).
 * At most 7 characters without the dot.
 */
const icd10Pattern = z
  .string()
  .regex(
    /^[A-Z](?:[0-9A-Z](?:[0-9A-Z](?:\.?[0-9A-Z]{0,4})?)?)?(?:\.?\*)?$/,
    'must be an ICD-10-CM code such as "E11.9" or a prefix such as "E11.*"',
  );

const range = (max: number) =>
  z
    .object({ min: z.number().min(0).max(max).optional(), max: z.number().min(0).max(max).optional() })
    .strict()
    .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not exceed max');

/** How many code patterns the circuit can check in each list. */
export const MAX_ANY_OF = 4;
export const MAX_NONE_OF = 4;

/**
 * The criteria language. Every key is optional; an absent key does not constrain. Unknown keys are
 * refused (`.strict()`), so a criterion the circuit cannot check is never silently dropped.
 */
export const criteriaSchema = z
  .object({
    version: z.literal(1),
    /** Age in whole years at proof time. */
    age: range(130).optional(),
    sex: z.array(z.enum(SEXES)).min(1).optional(),
    smoker: z.array(z.enum(SMOKER_STATUSES)).min(1).optional(),
    hba1c: range(MEASURES.hba1c.max).optional(),
    glucose: range(MEASURES.glucose.max).optional(),
    cholesterol: range(MEASURES.cholesterol.max).optional(),
    bmi: range(MEASURES.bmi.max).optional(),
    phq9: range(MEASURES.phq9.max).optional(),
    conditions: z
      .object({
        anyOf: z.array(icd10Pattern).min(1).max(MAX_ANY_OF, `at most ${MAX_ANY_OF} codes or prefixes in anyOf`).optional(),
        noneOf: z.array(icd10Pattern).min(1).max(MAX_NONE_OF, `at most ${MAX_NONE_OF} codes or prefixes in noneOf`).optional(),
      })
      .strict()
      .optional(),
    /** The credential must have been issued at most this many days before the proof. */
    credentialMaxAgeDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();

export type Criteria = z.infer<typeof criteriaSchema>;
