/**
 * What the receipts share (browser-safe): the identifier systems for chain parties, the Consentry
 * extension for a chain transaction, and the input checks. Every receipt is built from chain facts
 * only: addresses, hashes, bitmasks and block times, never a name or a record's content.
 */
import { isAddress, type Address, type Hex } from 'viem';
import { z } from 'zod';
import type { PurposeCode } from '../access/actions.ts';
import { ConsentryError } from '../errors.ts';
import { CATEGORIES, type Category } from '../records/categories.ts';
import { CATEGORY_DESCRIPTIONS } from '../research/consent-template.ts';

/** Identifier systems. A chain address is an identifier, never a FHIR resource id (no Patient resource exists for it). */
export const SYSTEMS = {
  /** The per-study address a participant enrolled from (pseudonymous: not the patient's main account). */
  studyParticipant: 'urn:consentry:study-participant',
  /** A patient's account address (clinical access: the address that holds the grants). */
  patient: 'urn:consentry:patient',
  /** An organisation's address in OrganizationRegistry (clinic, researcher, IRB). */
  organization: 'urn:consentry:organization',
  /** A release committee member's address (a gateway operator). */
  committeeMember: 'urn:consentry:committee-member',
  /** A record id (bytes32), as the anchored leaves and the gateways' logs name it. */
  record: 'urn:consentry:record',
  /** A study id (decimal), as StudyRegistry numbers it. */
  study: 'urn:consentry:study',
  /** An enrollment: `eip155:<chainId>:<transaction hash>`. */
  enrollment: 'urn:consentry:enrollment',
  /** An access request: `eip155:<chainId>:<request id>`. */
  accessRequest: 'urn:consentry:access-request',
  /** The categories of records (sdk/src/records/categories.ts), as codes. */
  category: 'urn:consentry:category',
} as const;

/** The Consentry extensions (URNs: nothing is published to resolve; the receipts say what they mean here). */
export const EXTENSIONS = {
  /** One chain transaction behind the resource: sub-extensions event, chain (CAIP-2), transaction, time. */
  chainTransaction: 'urn:consentry:fhir:extension:chain-transaction',
  /** The study a research consent belongs to (valueIdentifier, SYSTEMS.study). */
  study: 'urn:consentry:fhir:extension:study',
} as const;

export const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V3_PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const LOINC = 'http://loinc.org';

/** The v3-ActReason displays of the AccessGrants purposes (HL7's wording, not the app's labels). */
export const PURPOSE_DISPLAYS: Readonly<Record<PurposeCode, string>> = {
  TREAT: 'treatment',
  ETREAT: 'Emergency Treatment',
  HPAYMT: 'healthcare payment',
  HOPERAT: 'healthcare operations',
  HRESCH: 'healthcare research',
  PUBHLTH: 'public health',
  PATRQT: 'patient requested',
  HLEGAL: 'legal',
};

/** A URI naming content by its SHA-256 (Attachment.hash in R4 is base64 SHA-1, so it cannot carry this). */
export const sha256Urn = (hash: Hex): string => `urn:consentry:sha256:${hash.slice(2).toLowerCase()}`;
/** A URI naming an organisation by address (for uri-typed elements such as Consent.policy.authority). */
export const organizationUrn = (address: Address): string => `${SYSTEMS.organization}:${address.toLowerCase()}`;
/** CAIP-2 name of an EVM chain. */
export const caip2 = (id: number): string => `eip155:${id}`;

export interface FhirIdentifier {
  system: string;
  value: string;
}
export interface FhirCoding {
  system: string;
  code: string;
  display?: string;
}
export interface FhirReference {
  identifier: FhirIdentifier;
  display?: string;
}
export interface FhirExtension {
  url: string;
  valueString?: string;
  valueCode?: string;
  valueDateTime?: string;
  valueIdentifier?: FhirIdentifier;
  extension?: FhirExtension[];
}

/** A Reference carrying only a logical identifier: the receipt names the party without a resource for it. */
export const referenceTo = (system: string, value: string): FhirReference => ({ identifier: { system, value } });

/** The category codes of a bitmask (CATEGORIES order), with their plain-language description. */
export function categoryCodings(categories: readonly Category[]): FhirCoding[] {
  return categories.map((c) => ({ system: SYSTEMS.category, code: c, display: CATEGORY_DESCRIPTIONS[c] }));
}

/** The categories of a bitmask; bits past the known categories are refused (a receipt must not drop one silently). */
export function categoriesOfBitmask(mask: bigint): Category[] {
  if (mask >> BigInt(CATEGORIES.length) !== 0n) throw new ReceiptInputError(`The category bitmask 0x${mask.toString(16)} has bits no category has`);
  return CATEGORIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** FHIR dateTime/instant of a unix time in seconds (a block time). */
export const isoFromSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** The Consentry chain-transaction extension. */
export function chainTransactionExtension(event: string, chainId: number, transactionHash: Hex, atSeconds?: number): FhirExtension {
  return {
    url: EXTENSIONS.chainTransaction,
    extension: [
      { url: 'event', valueCode: event },
      { url: 'chain', valueString: caip2(chainId) },
      { url: 'transaction', valueString: transactionHash.toLowerCase() },
      ...(atSeconds === undefined ? [] : [{ url: 'time', valueDateTime: isoFromSeconds(atSeconds) }]),
    ],
  };
}

/** Input a receipt cannot be built from (a malformed address or hash, an expiry before the start…). */
export class ReceiptInputError extends ConsentryError {
  constructor(message: string) {
    super('RECEIPT_INPUT_INVALID', message);
    this.name = 'ReceiptInputError';
  }
}

// --- Input schemas (chain facts arrive from the indexer as strings or bigints; they are checked once here). ---

export const address = z
  .string()
  .refine((s) => isAddress(s, { strict: false }), 'must be a 20-byte 0x address')
  .transform((s) => s.toLowerCase() as Address);
export const hash32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'must be 32 bytes of 0x-hex')
  .transform((s) => s.toLowerCase() as Hex);
const MAX_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z, the last instant FHIR can write
/** Unix seconds (a block time), given as a number, a bigint or a decimal string. */
export const unixSeconds = z
  .union([z.number().int(), z.bigint(), z.string().regex(/^\d{1,20}$/)])
  .transform((v) => Number(v))
  .pipe(z.number().int().min(0).max(MAX_SECONDS, 'is past year 9999'));
export const chainId = z.number().int().positive();
/** A category bitmask as StudyParams (bigint) or a Grant (number) has it, or a decimal string. */
export const bitmask = z.union([z.number().int().nonnegative(), z.bigint().nonnegative(), z.string().regex(/^\d{1,78}$/)]).transform((v) => BigInt(v));

/** Parses with `schema`, turning a failure into a ReceiptInputError naming the fields. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const reasons = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'} ${i.message}`).slice(0, 4).join('; ');
  throw new ReceiptInputError(`Cannot build ${what}: ${reasons}`);
}
