/**
 * Consent receipts (issue 8, item 4), browser-safe: an enrollment in a study and a clinical grant,
 * each as a FHIR R4 `Consent` built from chain facts only (addresses, hashes, bitmasks, block times,
 * transaction hashes). No patient name or record content is ever an input.
 *
 * R4 Consent requires status (1..1), scope (1..1), category (1..*) and, by invariant ppc-1, a policy
 * or a policyRule; both receipts carry a policyRule, the enrollment also a policy. `patient` is given
 * too (ppc-2/ppc-3 ask for it under privacy and research scopes). Parties are References holding
 * only an identifier: the receipt names an address, it has no Patient or Organization resource for it.
 *
 * Status: R4's consent-state-codes are draft | proposed | active | rejected | inactive |
 * entered-in-error. A consent on chain was given, so it is `active` until it is revoked or expires,
 * then `inactive` (R4: "the consent is terminated or replaced"); which of the two is in
 * `provision.period` (the expiry) and in a revocation chain-transaction extension.
 */
import type { Address, Hex } from 'viem';
import { z } from 'zod';
import { PURPOSES } from '../access/actions.ts';
import type { Category } from '../records/categories.ts';
import {
  address,
  bitmask,
  caip2,
  categoriesOfBitmask,
  categoryCodings,
  chainId,
  chainTransactionExtension,
  EXTENSIONS,
  hash32,
  isoFromSeconds,
  LOINC,
  organizationUrn,
  parseInput,
  PURPOSE_DISPLAYS,
  ReceiptInputError,
  referenceTo,
  sha256Urn,
  SYSTEMS,
  unixSeconds,
  V3_ACT_CODE,
  V3_ACT_REASON,
  V3_PARTICIPATION_TYPE,
  type FhirCoding,
  type FhirExtension,
  type FhirIdentifier,
  type FhirReference,
} from './common.ts';

type Seconds = number | bigint | string;

/** What the chain says about one enrollment (Study, Enrollment, IrbDecision and ConsentRevocation entities). */
export interface EnrollmentFacts {
  chainId: number;
  /** StudyRegistry's study id. */
  studyId: bigint | number | string;
  /** The per-study address that enrolled (Enrollment.participant): pseudonymous, never the patient's main account. */
  participant: Address | string;
  /** Study.consentHash: SHA-256 of the consent text's UTF-8 bytes. */
  consentHash: Hex | string;
  /** Study.protocolHash: SHA-256 of the protocol's UTF-8 bytes. */
  protocolHash: Hex | string;
  /** Study.categories: the category bitmask the study takes. */
  categories: bigint | number | string;
  /** Block time of the Enrollment event, unix seconds. */
  enrolledAt: Seconds;
  /** Enrollment.expiresAt, unix seconds. */
  expiresAt: Seconds;
  /** The Enrollment event's transaction. */
  transactionHash: Hex | string;
  /** The IRB decision that approved the study (IrbDecision with decision "approved"). */
  irbApproval: { irb: Address | string; transactionHash: Hex | string; decidedAt: Seconds };
  /** The study's researcher (Study.researcher), named as the recipient when given. */
  researcher?: Address | string | undefined;
  /** The holder's revocation (ConsentRevocation), when there was one. */
  revoked?: { at: Seconds; transactionHash?: Hex | string | undefined } | null | undefined;
}

/** What the chain says about one clinical grant (the Grant entity, and the approval's AccessEvent). */
export interface GrantFacts {
  chainId: number;
  /** The patient's account address (Grant.patient). */
  patient: Address | string;
  /** The requesting organisation (Grant.grantee). */
  grantee: Address | string;
  /** Grant.categories: the approved category bitmask. */
  categories: bigint | number | string;
  /** Grant.purpose: the AccessGrants.Purpose index (0 TREAT … 7 HLEGAL). */
  purpose: number;
  /** Grant.requestId: the request the grant answers. */
  requestId: bigint | number | string;
  /** Grant.grantedAt, unix seconds. */
  grantedAt: Seconds;
  /** Grant.expiresAt, unix seconds. */
  expiresAt: Seconds;
  /** The approval's transaction (AccessEvent REQUEST_APPROVED), when known. */
  transactionHash?: Hex | string | undefined;
  /** Grant.revokedAt when Grant.revoked, with the revocation's transaction when known. */
  revoked?: { at: Seconds; transactionHash?: Hex | string | undefined } | null | undefined;
}

export interface ReceiptOptions {
  /** Unix seconds at which `status` is judged (default: now). */
  asOf?: Seconds;
}

export type ConsentStatus = 'active' | 'inactive';

/** The FHIR R4 Consent the receipts produce (the elements they use). */
export interface ConsentResource {
  resourceType: 'Consent';
  extension: FhirExtension[];
  identifier: FhirIdentifier[];
  status: ConsentStatus;
  scope: { coding: FhirCoding[] };
  category: Array<{ coding: FhirCoding[] }>;
  patient: FhirReference;
  dateTime: string;
  performer: FhirReference[];
  sourceAttachment?: { contentType: string; url: string; title: string };
  policy?: Array<{ authority: string; uri: string }>;
  policyRule: { coding: FhirCoding[] };
  provision: {
    type: 'permit';
    period: { start: string; end: string };
    actor?: Array<{ role: { coding: FhirCoding[] }; reference: FhirReference }>;
    action: Array<{ coding: FhirCoding[] }>;
    purpose: FhirCoding[];
    class: FhirCoding[];
  };
}

const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
const CONSENT_POLICY = 'http://terminology.hl7.org/CodeSystem/consentpolicycodes';
const CONSENT_ACTION = 'http://terminology.hl7.org/CodeSystem/consentaction';
const INFORMATION_RECIPIENT = { system: V3_PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' };

const revocation = z.object({ at: unixSeconds, transactionHash: hash32.optional() }).nullish();

const enrollmentSchema = z.object({
  chainId,
  studyId: z.union([z.bigint().nonnegative(), z.number().int().nonnegative(), z.string().regex(/^\d{1,78}$/)]).transform((v) => BigInt(v)),
  participant: address,
  consentHash: hash32,
  protocolHash: hash32,
  categories: bitmask,
  enrolledAt: unixSeconds,
  expiresAt: unixSeconds,
  transactionHash: hash32,
  irbApproval: z.object({ irb: address, transactionHash: hash32, decidedAt: unixSeconds }),
  researcher: address.optional(),
  revoked: revocation,
});

const grantSchema = z.object({
  chainId,
  patient: address,
  grantee: address,
  categories: bitmask,
  purpose: z.number().int().min(0).max(PURPOSES.length - 1),
  requestId: z.union([z.bigint().nonnegative(), z.number().int().nonnegative(), z.string().regex(/^\d{1,78}$/)]).transform((v) => BigInt(v)),
  grantedAt: unixSeconds,
  expiresAt: unixSeconds,
  transactionHash: hash32.optional(),
  revoked: revocation,
});

const asOfSeconds = (options: ReceiptOptions): number =>
  options.asOf === undefined ? Math.floor(Date.now() / 1000) : parseInput(unixSeconds, options.asOf, 'a receipt (asOf)');

/** active while given, not revoked and not expired at `asOf`; inactive after either. */
function statusAt(asOf: number, expiresAt: number, revokedAt: number | undefined): ConsentStatus {
  if (revokedAt !== undefined && revokedAt <= asOf) return 'inactive';
  return asOf < expiresAt ? 'active' : 'inactive';
}

function requireCategories(categories: Category[], what: string): Category[] {
  if (categories.length === 0) throw new ReceiptInputError(`Cannot build ${what}: it covers no category of records`);
  return categories;
}

/**
 * A participant's enrollment in a study as a FHIR R4 research Consent: scope research, the study's
 * categories permitted for healthcare research (HRESCH) from enrollment to expiry, the consent text
 * and protocol named by their SHA-256, the IRB approval, and the chain transactions behind it.
 */
export function enrollmentConsent(facts: EnrollmentFacts, options: ReceiptOptions = {}): ConsentResource {
  const f = parseInput(enrollmentSchema, facts, 'an enrollment receipt');
  if (f.expiresAt <= f.enrolledAt) throw new ReceiptInputError('Cannot build an enrollment receipt: it expires before it starts');
  const categories = requireCategories(categoriesOfBitmask(f.categories), 'an enrollment receipt');
  const participant = referenceTo(SYSTEMS.studyParticipant, f.participant);
  const studyId = f.studyId.toString();
  return {
    resourceType: 'Consent',
    extension: [
      { url: EXTENSIONS.study, valueIdentifier: { system: SYSTEMS.study, value: studyId } },
      chainTransactionExtension('enrollment', f.chainId, f.transactionHash, f.enrolledAt),
      chainTransactionExtension('irb-approval', f.chainId, f.irbApproval.transactionHash, f.irbApproval.decidedAt),
      ...(f.revoked?.transactionHash ? [chainTransactionExtension('revocation', f.chainId, f.revoked.transactionHash, f.revoked.at)] : []),
    ],
    identifier: [{ system: SYSTEMS.enrollment, value: `${caip2(f.chainId)}:${f.transactionHash}` }],
    status: statusAt(asOfSeconds(options), f.expiresAt, f.revoked?.at),
    scope: { coding: [{ system: CONSENT_SCOPE, code: 'research', display: 'Research' }] },
    // LOINC 57016-8 rather than v3-ActCode RESEARCH: R4's consent-category value set lists it by name
    // (RESEARCH only enters through v3-ActConsentType), and R4 research consents in use, such as the
    // German Medical Informatics Initiative's broad consent (scope research), categorise with it.
    // That the consent is for research is already said by scope and provision.purpose.
    category: [{ coding: [{ system: LOINC, code: '57016-8', display: 'Privacy policy acknowledgment Document' }] }],
    patient: participant,
    dateTime: isoFromSeconds(f.enrolledAt),
    // The participant gave it: enrolling from the study address is the signature (consent text, section 10).
    performer: [participant],
    // The text the participant agreed to, named by its SHA-256 (the study's on-chain consentHash).
    // Attachment.hash is not used: in R4 it is the base64 SHA-1 of the data, and we hold a SHA-256.
    sourceAttachment: {
      contentType: 'text/plain; charset=utf-8',
      url: sha256Urn(f.consentHash),
      title: `Consent text of study ${studyId} (SHA-256 ${f.consentHash.slice(2)})`,
    },
    // The protocol the IRB approved, by its SHA-256, under that IRB's authority.
    policy: [{ authority: organizationUrn(f.irbApproval.irb), uri: sha256Urn(f.protocolHash) }],
    policyRule: { coding: [{ system: CONSENT_POLICY, code: 'hipaa-research', display: 'HIPAA Research Authorization' }] },
    provision: {
      type: 'permit',
      period: { start: isoFromSeconds(f.enrolledAt), end: isoFromSeconds(f.expiresAt) },
      ...(f.researcher ? { actor: [{ role: { coding: [INFORMATION_RECIPIENT] }, reference: referenceTo(SYSTEMS.organization, f.researcher) }] } : {}),
      action: [{ coding: [{ system: CONSENT_ACTION, code: 'disclose', display: 'Disclose' }] }],
      // HL7 v3 PurposeOfUse "healthcare research" is HRESCH (there is no code HRESRCH).
      purpose: [{ system: V3_ACT_REASON, code: 'HRESCH', display: 'healthcare research' }],
      class: categoryCodings(categories),
    },
  };
}

/**
 * A patient's clinical grant to an organisation as a FHIR R4 privacy Consent: scope patient-privacy,
 * the approved categories permitted to the grantee for the grant's purpose from approval to expiry.
 */
export function grantConsent(facts: GrantFacts, options: ReceiptOptions = {}): ConsentResource {
  const f = parseInput(grantSchema, facts, 'a grant receipt');
  if (f.expiresAt <= f.grantedAt) throw new ReceiptInputError('Cannot build a grant receipt: it expires before it starts');
  const categories = requireCategories(categoriesOfBitmask(f.categories), 'a grant receipt');
  const purpose = PURPOSES[f.purpose]!;
  const patient = referenceTo(SYSTEMS.patient, f.patient);
  const extension: FhirExtension[] = [
    ...(f.transactionHash ? [chainTransactionExtension('grant', f.chainId, f.transactionHash, f.grantedAt)] : []),
    ...(f.revoked?.transactionHash ? [chainTransactionExtension('revocation', f.chainId, f.revoked.transactionHash, f.revoked.at)] : []),
  ];
  return {
    resourceType: 'Consent',
    extension,
    identifier: [{ system: SYSTEMS.accessRequest, value: `${caip2(f.chainId)}:${f.requestId}` }],
    status: statusAt(asOfSeconds(options), f.expiresAt, f.revoked?.at),
    scope: { coding: [{ system: CONSENT_SCOPE, code: 'patient-privacy', display: 'Privacy Consent' }] },
    // LOINC 59284-0 "Patient Consent": what R4's own privacy consent examples (consent-example-basic and most others) use.
    category: [{ coding: [{ system: LOINC, code: '59284-0', display: 'Patient Consent' }] }],
    patient,
    dateTime: isoFromSeconds(f.grantedAt),
    performer: [patient],
    // An opt-in to share with one named recipient, as R4's privacy examples code it.
    policyRule: { coding: [{ system: V3_ACT_CODE, code: 'OPTIN', display: 'opt-in' }] },
    provision: {
      type: 'permit',
      period: { start: isoFromSeconds(f.grantedAt), end: isoFromSeconds(f.expiresAt) },
      actor: [{ role: { coding: [INFORMATION_RECIPIENT] }, reference: referenceTo(SYSTEMS.organization, f.grantee) }],
      action: [{ coding: [{ system: CONSENT_ACTION, code: 'access', display: 'Access' }] }],
      purpose: [{ system: V3_ACT_REASON, code: purpose.code, display: PURPOSE_DISPLAYS[purpose.code] }],
      class: categoryCodings(categories),
    },
  };
}
