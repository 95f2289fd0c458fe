/**
 * What the /eligibility page says, as pure functions (tested without a browser): a credential's
 * attributes in words, and why "Prove and enrol" cannot be pressed yet.
 */
import { MEASURES, MEASURE_NAMES, type Attributes } from '@consentry/sdk/zk/types';
import { CATEGORIES } from '@consentry/sdk/records/categories';

const YEAR_MS = 365.2425 * 86_400_000;

/** Whole years between a YYYY-MM-DD birth date and `at` (unix seconds), as the circuit counts them (mean years). */
export function ageInYears(birthDate: string, at: number): number {
  return Math.floor((at * 1000 - Date.parse(`${birthDate}T00:00:00Z`)) / YEAR_MS);
}

/** A date (unix seconds) as the page shows it: 5 Dec 2026. */
export const dateOf = (unix: number) => new Date(unix * 1000).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** The attributes a credential carries, one labelled line each, in words. */
export function describeAttributes(a: Attributes, at: number): Array<{ label: string; value: string }> {
  const measured = MEASURE_NAMES.filter((m) => a.measures[m] !== undefined);
  return [
    { label: 'Born', value: `${a.birthDate} (${ageInYears(a.birthDate, at)} years old)` },
    { label: 'Sex', value: a.sex },
    { label: 'Smoking', value: a.smoker === 'unknown' ? 'not recorded' : a.smoker },
    { label: 'Conditions', value: a.conditions.length > 0 ? a.conditions.join(', ') : 'none recorded' },
    {
      label: 'Measurements',
      value: measured.length > 0 ? measured.map((m) => `${MEASURES[m].label} ${a.measures[m]}${MEASURES[m].unit === 'score' ? '' : ` ${MEASURES[m].unit}`}`).join(', ') : 'none recorded',
    },
  ];
}

export interface EnrolState {
  studyProblem: string | null;
  artifactsProblem: string | null;
  enrolled: boolean | undefined;
  hasCredential: boolean;
  credentialExpired: boolean;
  checked: { eligible: boolean } | null;
  consent: boolean;
}

/** Why the patient cannot prove and enrol yet, in words (the first reason that applies), or null. */
export function enrolBlocker(s: EnrolState): string | null {
  if (s.studyProblem) return s.studyProblem;
  if (s.enrolled) return 'You are already enrolled in this study';
  if (s.artifactsProblem) return s.artifactsProblem;
  if (!s.hasCredential) return 'Get a credential first';
  if (s.credentialExpired) return 'Your credential has expired: get a new one';
  if (!s.checked) return 'Check your eligibility first';
  if (!s.checked.eligible) return 'You do not meet this study\'s criteria (see above), so no proof can be made';
  if (s.enrolled === undefined) return 'Checking whether you are enrolled already…';
  if (!s.consent) return 'Give your consent first';
  return null;
}

/** The chain's refusals that mean "this person is in this study already", said the patient's way. */
const ALREADY_ENROLLED = new Set(['EligibilityVerifier__NullifierUsed', 'StudyRegistry__AlreadyEnrolled']);
export const isAlreadyEnrolledError = (errorName: string | undefined) => errorName !== undefined && ALREADY_ENROLLED.has(errorName);
export const ALREADY_ENROLLED_WORDS = 'You are already enrolled in this study';

/** The record categories a study's bitmask asks for (bit i = CATEGORIES[i]), in the order the sdk lists them. */
export function categoriesWanted(mask: bigint): string[] {
  return CATEGORIES.filter((_, i) => ((mask >> BigInt(i)) & 1n) === 1n).map((c) => c.replace('-', ' '));
}

/** A consent duration in seconds, in words (days when whole, else hours). */
export function durationInWords(seconds: bigint): string {
  const s = Number(seconds);
  if (s % 86_400 === 0) return `${s / 86_400} ${s === 86_400 ? 'day' : 'days'}`;
  const hours = Math.max(1, Math.round(s / 3600));
  return `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
}

/** What Safe Harbor (45 CFR 164.514(b)(2)) removes from a study extract, in the patient's words (decision 025). */
export const SAFE_HARBOR_REMOVES: readonly string[] = [
  'names, of you and of anyone else (relatives, clinicians)',
  'your address below the state; ZIP codes cut to 3 digits (000 where few people live)',
  'every date element but the year; ages over 89 grouped as 90 or older',
  'telephone and fax numbers, email addresses, web addresses and IP addresses',
  'social security, medical record, health plan, account, certificate and licence numbers',
  'vehicle and device identifiers and serial numbers',
  'biometric identifiers and photographs',
  'record ids (replaced by pseudonyms), free-text notes, narrative and any other identifying code',
];
