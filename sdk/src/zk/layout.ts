/**
 * The circuit's encoding (circuits/main/eligibility.circom, decision 018): attributes → 16 field
 * elements `attrs`, criteria → 32 field elements `crit` and their `criteriaHash`. Every other part
 * (issuer, local eligibility check, prover, contracts' fixtures) goes through these functions, so
 * the arithmetic exists once.
 *
 * Browser-safe: no Node imports.
 */
import { poseidon16 } from 'poseidon-lite/poseidon16';
import { poseidon2 } from 'poseidon-lite/poseidon2';
import { z } from 'zod';
import { ConsentryError } from '../errors.ts';
import {
  criteriaSchema,
  MAX_ANY_OF,
  MAX_CONDITIONS,
  MAX_NONE_OF,
  MEASURES,
  MEASURE_NAMES,
  SEXES,
  SMOKER_STATUSES,
  type Attributes,
  type Criteria,
  type MeasureName,
} from './types.ts';

/** The BN254 scalar field (circom's and snarkjs's default prime). */
export const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** The Gregorian mean year in seconds (365.2425 days): ages are counted in these. */
export const YEAR_SECONDS = 31_556_952;
/** Seconds from 1900-01-01T00:00:00Z to the unix epoch: birth dates count from 1900 so they stay positive. */
export const SECONDS_1900_TO_1970 = 2_208_988_800;
/** The issuers tree's largest depth the circuit accepts (≤ 256 issuers). */
export const MAX_ISSUER_DEPTH = 8;
/** Field elements in `attrs` (the attribute hash always takes 16, whatever MAX_CONDITIONS is). */
export const ATTRIBUTE_COUNT = 16;
/** Field elements in `crit`. */
export const CRITERIA_COUNT = 32;
/** Every compared value fits in 40 bits: the circuit's comparators are 40-bit. */
export const VALUE_BITS = 40;
/** 2^40 − 1, the "no upper bound" value of every range. */
export const UNBOUNDED = (1n << 40n) - 1n;
/** Condition slots start here in `attrs`. */
export const ATTR_CONDITIONS_AT = 8;
/** Where each criterion sits in `crit` (documented in decision 018). */
export const CRIT = {
  ageMin: 0,
  ageMax: 1,
  sexMask: 2,
  smokerMask: 3,
  measures: 4,
  anyOf: 14,
  anyOfRequired: 22,
  noneOf: 23,
  credentialMaxAge: 31,
} as const;
/** [lo, hi] pairs reserved for each condition list in `crit` (MAX_ANY_OF / MAX_NONE_OF may use fewer). */
export const CODE_PAIRS = 4;
/** An unused pair: lo > hi, so no code falls in it. */
const NO_PAIR = [1n, 0n] as const;
const DAY_SECONDS = 86_400;

/** The attributes cannot be encoded for a credential (the message says which and why). */
export class AttributesError extends ConsentryError {
  constructor(message: string) {
    super('ATTRIBUTES_INVALID', message);
    this.name = 'AttributesError';
  }
}

/** The criteria are malformed, or ask for something the circuit cannot check. */
export class CriteriaError extends ConsentryError {
  constructor(message: string) {
    super('CRITERIA_INVALID', message);
    this.name = 'CriteriaError';
  }
}

// ---------------------------------------------------------------------------------------------
// ICD-10 codes as base-37 numbers: pad = 0, '0'..'9' = 1..10, 'A'..'Z' = 11..36, 7 digits. The
// pad digit sorts first, so the codes starting with a prefix are exactly one contiguous range.

const ICD10_DIGITS = 7;
const BASE = 37n;
const PAD_MAX = 36;

function icd10Digits(code: string, what: string): number[] {
  const chars = code.trim().toUpperCase().replace('.', '');
  if (chars.length === 0 || chars.length > ICD10_DIGITS || !/^[A-Z][0-9A-Z]*$/.test(chars)) {
    throw new AttributesError(`${what} ${JSON.stringify(code)} is not an ICD-10-CM code (a letter, then up to 6 letters or digits, one optional dot)`);
  }
  return [...chars].map((c) => (c <= '9' ? c.charCodeAt(0) - 48 + 1 : c.charCodeAt(0) - 65 + 11));
}

function fromDigits(digits: readonly number[], pad: number): bigint {
  let v = 0n;
  for (let i = 0; i < ICD10_DIGITS; i++) v = v * BASE + BigInt(digits[i] ?? pad);
  return v;
}

/** An ICD-10-CM code (`E11.9`, case and dot ignored) as the circuit's number (< 2^37). */
export function encodeIcd10(code: string): bigint {
  return fromDigits(icd10Digits(code, 'The code'), 0);
}

/**
 * The codes a pattern covers, as an inclusive range of encoded codes: `E11.*` covers every code
 * starting with E11 (E11 itself included); a code without `*` covers itself only.
 */
export function patternRange(pattern: string): readonly [bigint, bigint] {
  const trimmed = pattern.trim();
  if (!trimmed.endsWith('*')) {
    const v = encodeIcd10(trimmed);
    return [v, v];
  }
  const prefix = trimmed.slice(0, -1).replace(/\.$/, '');
  const digits = icd10Digits(prefix, 'The pattern prefix');
  return [fromDigits(digits, 0), fromDigits(digits, PAD_MAX)];
}

/** Whether `code` falls in `pattern`'s range, exactly as the circuit decides it. */
export function matchesPattern(code: string, pattern: string): boolean {
  const v = encodeIcd10(code);
  const [lo, hi] = patternRange(pattern);
  return v >= lo && v <= hi;
}

// ---------------------------------------------------------------------------------------------
// Attributes

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Seconds from 1900-01-01T00:00:00Z to `birthDate` (YYYY-MM-DD) at 00:00Z; refuses dates before 1900. */
export function birthSeconds(birthDate: string): bigint {
  const m = DATE.exec(birthDate);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== birthDate) {
    throw new AttributesError(`The birth date ${JSON.stringify(birthDate)} is not a calendar date (YYYY-MM-DD)`);
  }
  const seconds = BigInt(ms / 1000) + BigInt(SECONDS_1900_TO_1970);
  if (seconds < 0n) throw new AttributesError(`The birth date ${birthDate} is before 1900, which a credential cannot carry`);
  if (seconds > UNBOUNDED) throw new AttributesError(`The birth date ${birthDate} is too far in the future to encode`);
  return seconds;
}

/**
 * A measure's encoding: round(value × 10^decimals) + 1 (0 means "not measured"). Refuses values
 * that are negative, not finite or above the measure's maximum.
 */
export function encodeMeasure(name: MeasureName, value: number): bigint {
  const m = MEASURES[name];
  if (!Number.isFinite(value) || value < 0 || value > m.max) {
    throw new AttributesError(`${m.label} ${value} is outside 0 to ${m.max} ${m.unit}`);
  }
  return BigInt(Math.round(value * 10 ** m.decimals)) + 1n;
}

/** The shape of `Attributes` (types.ts), checked wherever attributes cross a boundary. */
export const attributesSchema = z
  .object({
    birthDate: z.string().regex(DATE, 'must be a date YYYY-MM-DD'),
    sex: z.enum(SEXES),
    smoker: z.enum(SMOKER_STATUSES),
    conditions: z.array(z.string()).max(MAX_CONDITIONS, `at most ${MAX_CONDITIONS} conditions`),
    measures: z.object(Object.fromEntries(MEASURE_NAMES.map((n) => [n, z.number().optional()])) as Record<MeasureName, z.ZodOptional<z.ZodNumber>>).strict(),
  })
  .strict();

/** The attributes as the circuit's 16 field elements (order in the file header of decision 018). */
export function encodeAttributes(a: Attributes): bigint[] {
  const parsed = attributesSchema.safeParse(a);
  if (!parsed.success) throw new AttributesError(`The attributes are malformed: ${issuesInWords(parsed.error)}`);
  const attrs = new Array<bigint>(ATTRIBUTE_COUNT).fill(0n);
  attrs[0] = birthSeconds(a.birthDate);
  attrs[1] = BigInt(SEXES.indexOf(a.sex));
  attrs[2] = BigInt(SMOKER_STATUSES.indexOf(a.smoker));
  MEASURE_NAMES.forEach((name, i) => {
    const value = a.measures[name];
    attrs[3 + i] = value === undefined ? 0n : encodeMeasure(name, value);
  });
  a.conditions.forEach((code, i) => {
    attrs[ATTR_CONDITIONS_AT + i] = encodeIcd10(code);
  });
  return attrs;
}

/** Poseidon16 of the encoded attributes (what the credential's message commits to). */
export function attributesHash(attrs: readonly bigint[]): bigint {
  if (attrs.length !== ATTRIBUTE_COUNT) throw new AttributesError(`Expected ${ATTRIBUTE_COUNT} encoded attributes, got ${attrs.length}`);
  return poseidon16([...attrs]);
}

/**
 * Age at `time` (unix seconds) in seconds, as the circuit computes it: time + SECONDS_1900_TO_1970
 * − birth. Negative when the birth date is after `time` (the circuit refuses that).
 */
export function ageSeconds(birthDate: string, time: number): bigint {
  return BigInt(time) + BigInt(SECONDS_1900_TO_1970) - birthSeconds(birthDate);
}

/** Whole-year age bounds in seconds: [min·YEAR, (max+1)·YEAR − 1]; absent → 0 and 2^40 − 1. */
export function ageBoundsSeconds(range?: { min?: number; max?: number }): readonly [bigint, bigint] {
  for (const v of [range?.min, range?.max]) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 1000)) {
      throw new CriteriaError(`age: bounds are whole years from 0, not ${v}`);
    }
  }
  const year = BigInt(YEAR_SECONDS);
  const lo = range?.min === undefined ? 0n : BigInt(range.min) * year;
  const hi = range?.max === undefined ? UNBOUNDED : (BigInt(range.max) + 1n) * year - 1n;
  return [lo, hi];
}

// ---------------------------------------------------------------------------------------------
// Criteria

function issuesInWords(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(criteria)'}: ${i.message}`).join('; ');
}

/** The criteria JSON checked against the criteria language; every problem named with its path. */
export function parseCriteria(json: unknown): Criteria {
  const parsed = criteriaSchema.safeParse(json);
  if (!parsed.success) throw new CriteriaError(`The criteria are invalid: ${issuesInWords(parsed.error)}`);
  return parsed.data;
}

/** A measure bound as an encoded value; refuses bounds finer than the measure is encoded with. */
function measureBound(name: MeasureName, value: number): bigint {
  const { decimals, unit } = MEASURES[name];
  const scaled = value * 10 ** decimals;
  // The credential carries value·10^decimals rounded; a finer bound would silently become coarser.
  if (Math.abs(scaled - Math.round(scaled)) > 1e-9) {
    throw new CriteriaError(`${name}: the bound ${value} ${unit} has more than ${decimals} decimal${decimals === 1 ? '' : 's'}, which is all a credential carries`);
  }
  return BigInt(Math.round(scaled)) + 1n;
}

function codePairs(patterns: readonly string[] | undefined, max: number, path: string): bigint[] {
  const list = patterns ?? [];
  if (list.length > max) throw new CriteriaError(`${path}: at most ${max} codes or prefixes, got ${list.length}`);
  const out: bigint[] = [];
  for (let k = 0; k < CODE_PAIRS; k++) {
    const p = list[k];
    if (p === undefined) {
      out.push(...NO_PAIR);
      continue;
    }
    try {
      out.push(...patternRange(p));
    } catch (e) {
      throw new CriteriaError(`${path}.${k}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

const maskOf = <T extends string>(all: readonly T[], allowed: readonly T[] | undefined): bigint =>
  allowed === undefined ? 15n : allowed.reduce((mask, v) => mask | (1n << BigInt(all.indexOf(v))), 0n);

/** Poseidon2(Poseidon16(crit[0..15]), Poseidon16(crit[16..31])): the one number a study stores. */
export function criteriaHashOf(values: readonly bigint[]): bigint {
  if (values.length !== CRITERIA_COUNT) throw new CriteriaError(`Expected ${CRITERIA_COUNT} compiled criteria, got ${values.length}`);
  return poseidon2([poseidon16(values.slice(0, 16)), poseidon16(values.slice(16, 32))]);
}

/**
 * The criteria as the circuit's 32 field elements and their hash. Anything the circuit cannot
 * express exactly (fractional years, bounds finer than a measure's decimals, too many patterns)
 * is refused with a CriteriaError, never rounded into a weaker criterion.
 */
export function compileCriteria(c: Criteria): { values: bigint[]; criteriaHash: bigint } {
  const criteria = parseCriteria(c);
  const values: bigint[] = [];
  values.push(...ageBoundsSeconds(criteria.age));
  values.push(maskOf(SEXES, criteria.sex), maskOf(SMOKER_STATUSES, criteria.smoker));
  for (const name of MEASURE_NAMES) {
    const r = criteria[name];
    if (r === undefined) {
      values.push(0n, UNBOUNDED);
      continue;
    }
    // Asking about a measure at all requires it measured: the lower bound is at least encode(0) = 1.
    values.push(measureBound(name, r.min ?? 0), r.max === undefined ? UNBOUNDED : measureBound(name, r.max));
  }
  values.push(...codePairs(criteria.conditions?.anyOf, MAX_ANY_OF, 'conditions.anyOf'));
  values.push(criteria.conditions?.anyOf ? 1n : 0n);
  values.push(...codePairs(criteria.conditions?.noneOf, MAX_NONE_OF, 'conditions.noneOf'));
  values.push(criteria.credentialMaxAgeDays === undefined ? UNBOUNDED : BigInt(criteria.credentialMaxAgeDays * DAY_SECONDS));
  if (values.length !== CRITERIA_COUNT) throw new Error(`compileCriteria produced ${values.length} values`); // a bug, not an input
  return { values, criteriaHash: criteriaHashOf(values) };
}
