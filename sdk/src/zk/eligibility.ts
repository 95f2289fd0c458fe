/**
 * The patient's local eligibility check, criterion by criterion, before any proof (browser-safe).
 *
 * It decides with the circuit's own arithmetic, not a re-reading of the criteria: the attributes are
 * encoded by `encodeAttributes`, the criteria compiled by `compileCriteria`, and every comparison
 * is made between those field elements exactly as the circuit makes it (age in seconds from 1900,
 * measures as value·10^decimals + 1, condition codes as base-37 numbers against [lo, hi] ranges). So
 * "eligible" here means a witness exists, and a failure names the criterion the circuit would stop
 * at. The words are made afterwards from the same numbers.
 */
import type { Credential } from './credential.ts';
import { ageSeconds, ATTR_CONDITIONS_AT, CODE_PAIRS, compileCriteria, CRIT, encodeAttributes, matchesPattern, SECONDS_1900_TO_1970, YEAR_SECONDS } from './layout.ts';
import { MAX_CONDITIONS, MEASURES, MEASURE_NAMES, SEXES, SMOKER_STATUSES, type Attributes, type Criteria } from './types.ts';

export interface EligibilityFailure {
  /** The criterion's key in the criteria JSON: `age`, `hba1c`, `conditions.anyOf`, `credentialMaxAgeDays`, `credential`. */
  criterion: string;
  message: string;
}

export interface EligibilityResult {
  eligible: boolean;
  failures: EligibilityFailure[];
}

export interface EligibilityOptions {
  /** The proof's time, unix seconds (the circuit's public `time`). */
  time: number;
  /** When given, its freshness and expiry are checked too (as the circuit does). */
  credential?: Pick<Credential, 'issuedAt' | 'expiresAt'>;
}

const DAY = 86_400;
// Where each attribute sits in the encoded attributes (the circuit's attrs[16]; layout.ts encodeAttributes).
const A_BIRTH = 0;
const A_SEX = 1;
const A_SMOKER = 2;
const A_MEASURES = 3;

/**
 * Compiled criteria by their JSON: compiling hashes them (Poseidon, a few ms), and a page checks the
 * same study's criteria again and again. Keyed by content, so a changed criteria object is compiled anew.
 */
const compiled = new Map<string, bigint[]>();
function criteriaValues(criteria: Criteria): bigint[] {
  const key = JSON.stringify(criteria);
  let values = compiled.get(key);
  if (!values) {
    values = compileCriteria(criteria).values;
    if (compiled.size >= 64) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, values);
  }
  return values;
}

const list = (items: readonly string[]) => (items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`);
const isoDate = (unix: number) => new Date(unix * 1000).toISOString().slice(0, 10);
/** An encoded measure (value·10^d + 1, 0 = not measured) back to its value. */
const decodeMeasure = (encoded: bigint, decimals: number) => Number(encoded - 1n) / 10 ** decimals;

/**
 * Whether `attributes` meet `criteria` at `time`, and if not, why, one failure per criterion.
 * Throws what `encodeAttributes` / `compileCriteria` throw (AttributesError, CriteriaError) when
 * the attributes or criteria cannot be put in the circuit at all.
 */
export function checkEligibility(attributes: Attributes, criteria: Criteria, opts: EligibilityOptions): EligibilityResult {
  const attrs = encodeAttributes(attributes);
  const crit = criteriaValues(criteria);
  const failures: EligibilityFailure[] = [];
  const fail = (criterion: string, message: string) => failures.push({ criterion, message });
  const time = BigInt(opts.time);

  // Age: the circuit needs birth ≤ time (since 1900) and age in seconds within [min, max].
  if (attrs[A_BIRTH]! > time + BigInt(SECONDS_1900_TO_1970)) {
    fail('age', `the birth date ${attributes.birthDate} is after the proof time ${isoDate(opts.time)}`);
  } else {
    const age = ageSeconds(attributes.birthDate, opts.time);
    const years = age / BigInt(YEAR_SECONDS);
    if (age < crit[CRIT.ageMin]!) fail('age', `age ${years} is below the minimum ${criteria.age?.min}`);
    else if (age > crit[CRIT.ageMax]!) fail('age', `age ${years} is above the maximum ${criteria.age?.max}`);
  }

  if (((crit[CRIT.sexMask]! >> attrs[A_SEX]!) & 1n) === 0n) {
    fail('sex', `sex ${attributes.sex} is not among ${list(criteria.sex ?? [...SEXES])}`);
  }
  if (((crit[CRIT.smokerMask]! >> attrs[A_SMOKER]!) & 1n) === 0n) {
    fail('smoker', `smoking status ${attributes.smoker} is not among ${list(criteria.smoker ?? [...SMOKER_STATUSES])}`);
  }

  MEASURE_NAMES.forEach((name, i) => {
    const value = attrs[A_MEASURES + i]!;
    const [lo, hi] = [crit[CRIT.measures + 2 * i]!, crit[CRIT.measures + 2 * i + 1]!];
    const { label, unit, decimals } = MEASURES[name];
    const shown = (v: bigint) => `${decodeMeasure(v, decimals)}${unit === 'score' ? '' : ` ${unit}`}`;
    if (value >= lo && value <= hi) return;
    if (value === 0n) fail(name, `${label} was never measured`);
    else if (value < lo) fail(name, `${label} ${shown(value)} is below the minimum ${shown(lo)}`);
    else fail(name, `${label} ${shown(value)} is above the maximum ${shown(hi)}`);
  });

  // Conditions: each filled slot is a code; a slot "falls in" a pair when lo ≤ code ≤ hi.
  const slots = attrs.slice(ATTR_CONDITIONS_AT, ATTR_CONDITIONS_AT + MAX_CONDITIONS);
  const pairs = (at: number) => Array.from({ length: CODE_PAIRS }, (_, k) => [crit[at + 2 * k]!, crit[at + 2 * k + 1]!] as const);
  const inPair = (code: bigint, [lo, hi]: readonly [bigint, bigint]) => code >= lo && code <= hi;
  if (crit[CRIT.anyOfRequired] === 1n) {
    const anyOf = pairs(CRIT.anyOf);
    if (!slots.some((code) => code !== 0n && anyOf.some((p) => inPair(code, p)))) {
      const patterns = criteria.conditions?.anyOf ?? [];
      fail('conditions.anyOf', attributes.conditions.length === 0 ? `no condition is recorded, and the study asks for any of ${list(patterns)}` : `no condition matches any of ${list(patterns)}`);
    }
  }
  const noneOf = pairs(CRIT.noneOf);
  slots.forEach((code, slot) => {
    if (code === 0n || !noneOf.some((p) => inPair(code, p))) return;
    const condition = attributes.conditions[slot]!;
    const pattern = (criteria.conditions?.noneOf ?? []).find((p) => matchesPattern(condition, p));
    fail('conditions.noneOf', `condition ${condition} is excluded${pattern ? ` (${pattern})` : ''}`);
  });

  if (opts.credential) {
    const { issuedAt, expiresAt } = opts.credential;
    const issued = BigInt(issuedAt);
    if (issued > time) fail('credential', `the credential was issued on ${isoDate(issuedAt)}, after the proof time ${isoDate(opts.time)}`);
    else if (time - issued > crit[CRIT.credentialMaxAge]!) {
      fail('credentialMaxAgeDays', `the credential was issued ${Math.floor((opts.time - issuedAt) / DAY)} days ago; the study accepts at most ${criteria.credentialMaxAgeDays}`);
    }
    if (time >= BigInt(expiresAt)) fail('credential', `the credential expired on ${isoDate(expiresAt)}`);
  }
  return { eligible: failures.length === 0, failures };
}
