/**
 * The demo study's protocol and consent text (synthetic: nobody is treated, no real data is used).
 * `npm run demo` stores both in the blob store and registers their SHA-256 as the study's
 * protocolHash and consentHash (sdk/src/research/study-documents.ts). The consent text is the
 * sdk's HIPAA authorization template filled with the study's own terms, so it cannot drift from
 * what the chain holds.
 */
import { consentAuthorizationText, type ConsentTerms } from '@consentry/sdk/research/consent-template';
import type { StudyParamsInput } from '@consentry/sdk/zk/chain';
import { describeCriteria, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';

/** Who runs the demo study, in words (its on-chain researcher is development account 10). */
export const DEMO_RESEARCHER_NAME = 'Demo Diabetes Outcomes Group (synthetic; development account 10)';

type DemoTerms = Required<Pick<StudyParamsInput, 'categories' | 'consentDuration' | 'minCohort' | 'maxParticipants'>> & Pick<StudyParamsInput, 'pricePerParticipant'>;

/** 6-decimal test-token units in words: 5_000_000n → "5 tUSD". */
const tusd = (units: bigint): string => `${units / 1_000_000n}${units % 1_000_000n ? `.${(units % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '')}` : ''} tUSD`;

/** The demo study's consent: the authorization template with its terms. */
export function demoConsentText(metadata: StudyMetadata, terms: DemoTerms, irb: string): string {
  const consent: ConsentTerms = {
    title: metadata.title,
    purpose:
      'To describe, in adults with type 2 diabetes, how HbA1c (long-term blood sugar) relates to the diabetes ' +
      'medications they take and to their other conditions, so that treatment choices can be compared. ' +
      'This is a demonstration study on synthetic data: its results are not used for care.',
    researcher: DEMO_RESEARCHER_NAME,
    irb,
    categories: terms.categories,
    consentDuration: terms.consentDuration,
    minCohort: terms.minCohort,
    paymentPerPurchase: terms.pricePerParticipant ? tusd(terms.pricePerParticipant) : null,
  };
  return consentAuthorizationText(consent);
}

/** The demo study's protocol: what a review board reads before approving it. */
export function demoProtocolText(metadata: StudyMetadata, terms: DemoTerms, irb: string): string {
  const criteria = describeCriteria(metadata.criteria).map((c) => `   - ${c.text}`);
  const consentDays = Number(BigInt(terms.consentDuration) / 86_400n);
  return [
    `STUDY PROTOCOL: ${metadata.title}`,
    'Version 1.0 (synthetic demonstration protocol)',
    `Researcher responsible: ${DEMO_RESEARCHER_NAME}`,
    `Review board: ${irb}`,
    '',
    '1. Background',
    'Type 2 diabetes is managed by lowering HbA1c, with metformin first and other medications added when HbA1c ' +
      'stays high. How well control is reached outside trials, and with which combinations, is known mostly from ' +
      'single health systems. Records that patients hold themselves allow a wider, consented view.',
    '',
    '2. Objectives',
    'Primary: the distribution of the latest HbA1c among participants, by the diabetes medications recorded.',
    'Secondary: the share of participants with HbA1c under 7 %; the association of HbA1c with recorded ' +
      'hypertension and hyperlipidaemia.',
    '',
    '3. Design',
    'Retrospective observational study of existing records. No intervention, no visit, no contact with participants.',
    '',
    '4. Participants',
    'Adults who hold their records in Consentry, meet the criteria below, and enroll by proving it with a ' +
      'zero-knowledge proof (the study learns that they meet the criteria, not their values):',
    ...criteria,
    `At most ${terms.maxParticipants} participants.`,
    '',
    '5. Data',
    'A de-identified extract per participant (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)): laboratory results, ' +
      'conditions and medications, with dates reduced to the year. No free text, no identifiers. Data are released ' +
      `only to a purchaser of the study's data, by Consentry's release committee, and only for cohorts of at least ${terms.minCohort}.`,
    '',
    '6. Analysis',
    'Descriptive statistics (median and interquartile range of HbA1c, proportions with 95 % confidence intervals) ' +
      'by medication group; logistic regression of HbA1c under 7 % on medication group, age band, hypertension and ' +
      `hyperlipidaemia. Groups smaller than ${terms.minCohort} are not reported.`,
    '',
    '7. Risks and protections',
    'The risk is re-identification from the extract. It is reduced by Safe Harbor de-identification, by the ' +
      'minimum cohort, by per-study addresses that are not linked to participants\' main accounts, and by the ' +
      'prohibition on any attempt to re-identify participants or to link extracts to other data.',
    '',
    '8. Benefits and payment',
    'No direct benefit. ' +
      (terms.pricePerParticipant ? `Each participant is paid ${tusd(terms.pricePerParticipant)} for each purchase that includes their extract.` : 'Participants are not paid.'),
    '',
    '9. Consent and withdrawal',
    `Participants sign the study's authorization (its hash is the study's consentHash) by enrolling. It lasts ${consentDays} days ` +
      'and may be revoked at any time; data already released are kept by their purchaser.',
    '',
    '10. Data retention',
    'Purchasers keep released extracts encrypted at rest, for at most 5 years after release, and delete them afterwards.',
    '',
  ].join('\n');
}
