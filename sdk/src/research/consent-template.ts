/**
 * The consent text of a study: a HIPAA authorization for research (45 CFR 164.508(c)) written from
 * the study's terms, browser-safe. Its core elements are each a section: a specific description of
 * the information (the categories of a Safe Harbor de-identified extract), who discloses it, who
 * receives it, the purpose, the expiry, signature and date; and the three required statements:
 * the right to revoke and how (and its exception), that treatment does not depend on signing,
 * and that what is disclosed may be redisclosed. Payment to the participant is stated as well.
 *
 * The text is what the study registers: its SHA-256 is the study's on-chain consentHash
 * (./study-documents.ts), so the terms written here must be the ones the chain holds (the same
 * categories, duration, k and price); the function takes them in the form StudyParams has them.
 */
import { CATEGORIES, type Category } from '../records/categories.ts';
import { ConsentryError } from '../errors.ts';

/** What each category of a study's extract holds, as a participant reads it. */
export const CATEGORY_DESCRIPTIONS: Readonly<Record<Category, string>> = {
  labs: 'laboratory results and vital signs (for example HbA1c, glucose, cholesterol, blood pressure, weight)',
  medications: 'medications prescribed or taken, with dose and dates (years only)',
  allergies: 'allergies and intolerances',
  conditions: 'diagnoses and health problems (coded, for example ICD-10)',
  procedures: 'procedures and operations',
  imaging: 'imaging studies and their reports',
  immunizations: 'immunizations',
  notes: 'clinical notes',
  'mental-health': 'mental health diagnoses, assessments and treatment',
  'substance-use': 'alcohol, tobacco and drug use diagnoses, screening and treatment',
  genomics: 'genetic and genomic test results',
  demographics: 'demographic information (year of birth, sex, state)',
  other: 'other health records that fit none of the above',
};

/** Categories that carry extra protections: the authorization names them explicitly. */
const SENSITIVE: readonly Category[] = ['mental-health', 'substance-use', 'genomics'];

export interface ConsentTerms {
  /** The study's title, as in its description. */
  title: string;
  /** The research purpose, one or more sentences. */
  purpose: string;
  /** The researcher (or sponsor) responsible for the study, as they are known. */
  researcher: string;
  /** The institutional review board that reviews it. */
  irb: string;
  /** The study's category bitmask (StudyParams.categories). */
  categories: bigint;
  /** Seconds the consent lasts from enrollment (StudyParams.consentDuration). */
  consentDuration: bigint;
  /** The smallest cohort whose data may be released (StudyParams.minCohort). */
  minCohort: number;
  /** Payment per participant per purchase in words ("5 tUSD"), or null when the study pays nothing. */
  paymentPerPurchase: string | null;
}

/** The categories of a bitmask, in CATEGORIES order. */
export function categoriesOfMask(mask: bigint): Category[] {
  return CATEGORIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

const days = (seconds: bigint): string => {
  const d = Number(seconds / 86_400n);
  if (d >= 365 && d % 365 === 0) return d === 365 ? 'one year (365 days)' : `${d / 365} years (${d} days)`;
  return d === 1 ? '1 day' : `${d} days`;
};

/**
 * The authorization for a study with these terms: plain text, numbered sections, ending with the
 * signature and date lines. The same terms always give the same text (so the same hash).
 */
export function consentAuthorizationText(terms: ConsentTerms): string {
  const categories = categoriesOfMask(terms.categories);
  if (categories.length === 0) throw new ConsentryError('CONSENT_TERMS_INVALID', 'A study that takes no category of records has no data to authorize');
  if (terms.consentDuration < 86_400n) throw new ConsentryError('CONSENT_TERMS_INVALID', 'A consent lasts at least one day');
  if (!Number.isInteger(terms.minCohort) || terms.minCohort < 1) throw new ConsentryError('CONSENT_TERMS_INVALID', 'The minimum cohort is a whole number of at least 1');
  for (const key of ['title', 'purpose', 'researcher', 'irb'] as const) {
    if (terms[key].trim() === '') throw new ConsentryError('CONSENT_TERMS_INVALID', `The consent text needs the study's ${key}`);
  }
  const sensitive = categories.filter((c) => SENSITIVE.includes(c));
  const lines = [
    'AUTHORIZATION TO USE AND DISCLOSE HEALTH INFORMATION FOR RESEARCH',
    '',
    `Study: ${terms.title}`,
    `Researcher responsible: ${terms.researcher}`,
    `Reviewed by: ${terms.irb}`,
    '',
    'Please read this authorization. Enrolling in the study signs it. You may keep a copy: its SHA-256 ' +
      'hash is recorded with the study on the blockchain, so anyone can check that this is the text you signed.',
    '',
    '1. The information that will be disclosed',
    'A de-identified extract of your health records held in your Consentry record vault, limited to:',
    ...categories.map((c) => `   - ${CATEGORY_DESCRIPTIONS[c]}`),
    'Before release, the 18 kinds of identifier of the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)) ' +
      'are removed or reduced: names, street addresses and any place smaller than a state, all parts of ' +
      'dates except the year, ages over 89, telephone and fax numbers, e-mail addresses, social security, ' +
      'medical record, health plan and account numbers, licence, vehicle and device numbers, web addresses, ' +
      'IP addresses, biometric identifiers, photographs and any other unique code. The extract is not ' +
      'linked to your name or to your main account.',
    ...(sensitive.length > 0
      ? ['', `It includes ${sensitive.map((c) => CATEGORY_DESCRIPTIONS[c]).join('; ')}. These records are disclosed only because you authorize it here.`]
      : []),
    'The study also learns that you meet its eligibility criteria (proved without revealing your values), ' +
      'never the values themselves.',
    '',
    '2. Who will disclose it',
    'You do, from your Consentry record vault: your extract is encrypted on your device, and the key to it ' +
      "is split among the members of Consentry's release committee. The committee releases it only to a " +
      `purchaser of the study's data, only while this authorization is in force, and only in a cohort of at least ${terms.minCohort} participants.`,
    '',
    '3. Who will receive it',
    `${terms.researcher}, and any other researcher who purchases this study's data through the Consentry ` +
      "marketplace under the study's terms. Each purchase and each release is recorded on the blockchain, " +
      'where you can see who purchased.',
    '',
    '4. The purpose',
    terms.purpose.trim(),
    '',
    '5. When this authorization ends',
    `This authorization expires ${days(terms.consentDuration)} after the day you enroll, or earlier on the ` +
      'day you revoke it (section 6). After it ends no new release of your extract is made. If the researcher ' +
      'closes the study, no one new enrolls and the authorizations already given stand until they end; if ' +
      'the review board suspends it, its data is no longer sold.',
    '',
    '6. Your right to revoke',
    'You may revoke this authorization at any time. To revoke, open the Eligibility page of Consentry with ' +
      'your account and choose "Revoke consent" for this study (this sends the revocation to the blockchain for you; ' +
      'you pay no fee). A revocation takes effect when it is recorded there. It does not undo what was ' +
      'disclosed before it: data already released under this authorization may still be used by those who received it.',
    '',
    '7. Your treatment does not depend on it',
    'Your treatment, payment, enrollment in a health plan and eligibility for benefits will not be affected ' +
      'by whether you sign this authorization. You may refuse to sign it.',
    '',
    '8. Information may be redisclosed',
    'Information disclosed under this authorization may be redisclosed by the recipient and may then no ' +
      'longer be protected by the HIPAA Privacy Rule (45 CFR Part 164).',
    '',
    '9. Payment',
    terms.paymentPerPurchase
      ? `You will be paid ${terms.paymentPerPurchase} each time your extract is part of a purchase of the study's data, ` +
        'held for you by the marketplace until you claim it. Disclosing your information under this authorization ' +
        'therefore results in payment to you.'
      : 'You will not be paid for taking part.',
    '',
    '10. Signature',
    'I have read this authorization and I agree to the disclosure described above.',
    '',
    'Signature of participant or personal representative: ______________________________',
    '',
    'Date: ____________________',
    '',
    'If signed by a personal representative, their name and their authority to act for the participant:',
    '______________________________________________________________',
    '',
    'In Consentry, the enrollment transaction sent from your study address is your signature, and its ' +
      'block time is the date.',
    '',
  ];
  return lines.join('\n');
}
