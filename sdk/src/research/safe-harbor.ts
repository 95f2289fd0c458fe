/**
 * The HIPAA Safe Harbor de-identification method, 45 CFR 164.514(b)(2) (browser-safe): the 18
 * kinds of identifier, and the small rules that reduce a value instead of removing it (ZIP codes to
 * three digits, dates to the year, ages over 89 to "90 or older"). extract.ts walks FHIR resources
 * and applies them; decision 025 explains the choices.
 */

/**
 * The 18 identifiers of 164.514(b)(2)(i), (A) to (R), "of the individual or of relatives,
 * employers, or household members of the individual". The comment on each says where extract.ts
 * handles it.
 */
export const SafeHarborIdentifier = {
  /** (A) Names: `name`, `alias`, Reference `display`, `contact` (relatives), HumanName anywhere. */
  Names: 'names',
  /** (B) Geographic subdivisions smaller than a state: Address `line`/`city`/`district`/`text`, ZIP → 3 digits or 000, Location `position`. */
  Geographic: 'geographic',
  /** (C) All elements of dates except the year; all ages over 89 and dates indicating them: every date → year, birthDate of 90+ dropped, Age > 89 → ≥ 90, times of day dropped, instants dropped. */
  Dates: 'dates',
  /** (D) Telephone numbers: `telecom`. */
  Telephone: 'telephone',
  /** (E) Fax numbers: `telecom`. */
  Fax: 'fax',
  /** (F) Email addresses: `telecom`. */
  Email: 'email',
  /** (G) Social Security numbers: every `identifier`. */
  SocialSecurity: 'social-security-number',
  /** (H) Medical record numbers: every `identifier`. */
  MedicalRecord: 'medical-record-number',
  /** (I) Health plan beneficiary numbers: every `identifier` (Coverage `subscriberId` as free text). */
  HealthPlan: 'health-plan-beneficiary-number',
  /** (J) Account numbers: every `identifier`. */
  Account: 'account-number',
  /** (K) Certificate and licence numbers: every `identifier` (Practitioner `qualification` identifiers too). */
  Licence: 'certificate-or-licence-number',
  /** (L) Vehicle identifiers and serial numbers, including licence plates: `identifier`, free text. */
  Vehicle: 'vehicle-identifier',
  /** (M) Device identifiers and serial numbers: Device `udiCarrier`, `serialNumber`, `lotNumber`, `modelNumber`, `deviceName`. */
  Device: 'device-identifier',
  /** (N) Web URLs: `url`, `valueUrl`/`valueUri`, absolute references, Attachment `url`. */
  Url: 'url',
  /** (O) IP addresses: free text (AuditEvent `network.address` and the like) is never kept. */
  IpAddress: 'ip-address',
  /** (P) Biometric identifiers, including finger and voice prints: Attachment `data`/`hash`, `identifier`. */
  Biometric: 'biometric-identifier',
  /** (Q) Full-face photographs and comparable images: `photo`, Attachment `data`/`url`. */
  Photo: 'photograph',
  /** (R) Any other unique identifying number, characteristic or code: resource ids (→ pseudonyms), `meta`, element ids, narrative, notes, extensions, free text. */
  Other: 'other-unique-identifier',
} as const;

export type SafeHarborIdentifier = (typeof SafeHarborIdentifier)[keyof typeof SafeHarborIdentifier];

/** Every kind, (A) to (R). */
export const SAFE_HARBOR_IDENTIFIERS: readonly SafeHarborIdentifier[] = Object.values(SafeHarborIdentifier);

/**
 * The three-digit ZIP areas with 20,000 people or fewer (Census 2000, as HHS's de-identification
 * guidance lists them): their ZIP codes become 000.
 */
export const RESTRICTED_ZIP3 = new Set([
  '036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893',
]);

/**
 * A US ZIP code (5 digits or ZIP+4) reduced to its first three digits, or 000 where that area is
 * restricted; undefined for anything else (a foreign or malformed postal code is removed: it cannot be
 * shown to cover 20,000 people).
 */
export function safeHarborZip(postalCode: string): string | undefined {
  const m = /^\s*(\d{3})\d{2}(?:-?\d{4})?\s*$/.exec(postalCode);
  if (!m) return undefined;
  const zip3 = m[1]!;
  return RESTRICTED_ZIP3.has(zip3) ? '000' : zip3;
}

/** FHIR date, dateTime and instant values: a year, then optionally month, day, time and zone. */
const FHIR_DATE = /^(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01])(?:T[0-2]\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-][0-2]\d:[0-5]\d)?)?)?)?$/;
/** FHIR time values (a time of day is an element of a date). */
const FHIR_TIME = /^[0-2]\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?$/;

/** The year of a FHIR date/dateTime/instant, or undefined if the string is not one. */
export function fhirDateYear(value: string): number | undefined {
  const m = FHIR_DATE.exec(value);
  return m ? Number(m[1]) : undefined;
}

export function isFhirTime(value: string): boolean {
  return FHIR_TIME.test(value);
}

/** The oldest age Safe Harbor lets through; above it, ages are reported as "90 or older". */
export const MAX_REPORTED_AGE = 89;

/**
 * Whether a year indicates an age over 89 at `now`: a birth year, or the year of anything that
 * happened to the person (a diagnosis in 1930 says they were alive then). With only the year kept,
 * a year `now.year - 90` may already be 90 years ago, so it is withheld too.
 */
export function yearImpliesAgeOver89(year: number, now: Date): boolean {
  return now.getUTCFullYear() - year > MAX_REPORTED_AGE;
}

const UCUM = 'http://unitsofmeasure.org';
/** Units of an Age (UCUM codes and common spellings), in years. */
const YEARS_PER_UNIT: Readonly<Record<string, number>> = {
  a: 1, yr: 1, yrs: 1, y: 1, year: 1, years: 1,
  mo: 1 / 12, month: 1 / 12, months: 1 / 12,
  wk: 7 / 365.25, week: 7 / 365.25, weeks: 7 / 365.25,
  d: 1 / 365.25, day: 1 / 365.25, days: 1 / 365.25,
};

/** A Quantity-shaped object's value in years, when its unit is a unit of age (undefined otherwise). */
export function ageInYears(q: Record<string, unknown>): number | undefined {
  if (typeof q.value !== 'number') return undefined;
  const code = typeof q.code === 'string' ? q.code.toLowerCase() : undefined;
  const unit = typeof q.unit === 'string' ? q.unit.toLowerCase() : undefined;
  const perUnit = code !== undefined ? YEARS_PER_UNIT[code] : unit !== undefined ? YEARS_PER_UNIT[unit] : undefined;
  return perUnit === undefined ? undefined : q.value * perUnit;
}

/** The age Safe Harbor reports for anyone over 89: 90 or older, in years. */
export function ageOver89(withComparator: boolean): Record<string, unknown> {
  return { value: MAX_REPORTED_AGE + 1, ...(withComparator ? { comparator: '>=' } : {}), unit: 'years', system: UCUM, code: 'a' };
}
