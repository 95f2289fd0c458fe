/**
 * A release receipt (issue 8, item 4), browser-safe: one entry of a release gateway's public log
 * (a committee member released its share of a record's key to a grantee) as a FHIR R4 `AuditEvent`.
 *
 * Pattern: IHE Basic Audit Log Patterns (BALP), "Audit Event for Privacy Disclosure at Source"
 * (IHE.BasicAudit.PrivacyDisclosure.Source), not BALP's RESTful Read (type rest, subtype read): a
 * release is a disclosure of the patient's data to another party under a grant, not a FHIR read of a
 * server resource. So: type DICOM 110106 Export, subtype ISO 21089 `disclose`, action R, outcome 0,
 * purposeOfEvent the grant's purpose; agents source (DICOM 110153, the committee member's gateway),
 * recipient (DICOM 110152, the requester) and authorizer (SNOMED CT 429577009 Patient Advocate, the
 * patient, who authorised it by the grant); source.observer the gateway; entities the patient
 * (audit-entity-type 1, object-role 1) and the record (2 System Object, 4 Domain Resource).
 * meta.profile is not claimed: BALP wants agent.network on source and recipient, and the gateway's
 * network address is given only when the caller knows it (`gatewayUrl`); the recipient's never is.
 *
 * The record entity carries, as entity.detail, every field of the log entry's Merkle leaf with the
 * member's batch root and proof, so the patient can re-check the entry against the root the member
 * posted on chain (`verifyReleaseAuditEvent`, or anyone with StandardMerkleTree).
 */
import type { Address, Hex } from 'viem';
import { z } from 'zod';
import { PURPOSES } from '../access/actions.ts';
import { RELEASE_LOG_ENCODING, verifyReleaseProof, type ReleaseLeafFields } from '../access/access-log.ts';
import { CATEGORIES, type Category } from '../records/categories.ts';
import { address, caip2, chainId, hash32, parseInput, PURPOSE_DISPLAYS, ReceiptInputError, referenceTo, SYSTEMS, V3_ACT_REASON, type FhirCoding, type FhirReference } from './common.ts';

/** One gateway log entry (workers' LogFeedEntry, or the indexer's Release with `entryId` as `id`) and the member whose log it is. */
export interface ReleaseLogEntry {
  /** The entry id (bytes32). */
  id: Hex | string;
  /** The committee member whose gateway released and logged it (LogPage.member). */
  member: Address | string;
  requester: Address | string;
  patient: Address | string;
  recordId: Hex | string;
  version: number;
  category: Category | string;
  /** AccessGrants.Purpose index. */
  purpose: number;
  /** Unix milliseconds. */
  releasedAt: number | string | bigint;
  /** The access-log root the entry is under, or null while the gateway has not posted it yet. */
  batchRoot: Hex | string | null;
  proof: ReadonlyArray<Hex | string> | null;
}

export interface ReleaseAuditOptions {
  /** The chain the member posts its roots on (written as a detail, CAIP-2). */
  chainId?: number;
  /** The gateway's base URL, when known (agent.network of the source, source.site). */
  gatewayUrl?: string;
}

interface Detail {
  type: string;
  valueString: string;
}

/** The FHIR R4 AuditEvent `releaseAuditEvent` produces (the elements it uses). */
export interface AuditEventResource {
  resourceType: 'AuditEvent';
  type: FhirCoding;
  subtype: FhirCoding[];
  action: 'R';
  recorded: string;
  outcome: '0';
  outcomeDesc: string;
  purposeOfEvent: Array<{ coding: FhirCoding[] }>;
  agent: Array<{
    type: { coding: FhirCoding[] };
    who: FhirReference;
    requestor: boolean;
    network?: { address: string; type: '5' };
  }>;
  source: { site?: string; observer: FhirReference; type: FhirCoding[] };
  entity: Array<{
    what: FhirReference;
    type: FhirCoding;
    role: FhirCoding;
    description?: string;
    detail?: Detail[];
  }>;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const SCT = 'http://snomed.info/sct';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

/** entity.detail types on the record entity: the leaf's fields not said elsewhere, and how to check it. */
export const DETAIL = {
  entryId: 'log-entry-id',
  recordId: 'record-id',
  version: 'record-version',
  category: 'category',
  purpose: 'purpose',
  releasedAt: 'released-at-ms',
  member: 'committee-member',
  chain: 'chain',
  encoding: 'leaf-encoding',
  batchRoot: 'batch-root',
  proof: 'merkle-proof',
} as const;

const entrySchema = z.object({
  id: hash32,
  member: address,
  requester: address,
  patient: address,
  recordId: hash32,
  version: z.number().int().min(0).max(0xffff_ffff),
  category: z.enum(CATEGORIES),
  purpose: z.number().int().min(0).max(PURPOSES.length - 1),
  releasedAt: z
    .union([z.number().int(), z.bigint(), z.string().regex(/^\d{1,20}$/)])
    .transform((v) => Number(v))
    .pipe(z.number().int().min(0).max(253_402_300_799_999)),
  batchRoot: hash32.nullable(),
  proof: z.array(hash32).nullable(),
});
const optionsSchema = z.object({ chainId: chainId.optional(), gatewayUrl: z.url().optional() });

/** One gateway log entry as a BALP privacy-disclosure AuditEvent (see the file header). */
export function releaseAuditEvent(entry: ReleaseLogEntry, options: ReleaseAuditOptions = {}): AuditEventResource {
  const e = parseInput(entrySchema, entry, 'a release receipt');
  const o = parseInput(optionsSchema, options, 'a release receipt (options)');
  if ((e.batchRoot === null) !== (e.proof === null)) throw new ReceiptInputError('Cannot build a release receipt: a batch root comes with its proof (both or neither)');
  const purpose = PURPOSES[e.purpose]!;
  const gateway = referenceTo(SYSTEMS.committeeMember, e.member);
  const details: Detail[] = [
    { type: DETAIL.entryId, valueString: e.id },
    { type: DETAIL.recordId, valueString: e.recordId },
    { type: DETAIL.version, valueString: String(e.version) },
    { type: DETAIL.category, valueString: e.category },
    { type: DETAIL.purpose, valueString: String(e.purpose) },
    { type: DETAIL.releasedAt, valueString: String(e.releasedAt) },
    { type: DETAIL.member, valueString: e.member },
    ...(o.chainId === undefined ? [] : [{ type: DETAIL.chain, valueString: caip2(o.chainId) }]),
    { type: DETAIL.encoding, valueString: `OpenZeppelin StandardMerkleTree leaf over (${RELEASE_LOG_ENCODING.join(',')}): entry id, requester, patient, record id, version, category bit, purpose, released-at-ms` },
    ...(e.batchRoot !== null && e.proof !== null
      ? [
          { type: DETAIL.batchRoot, valueString: e.batchRoot },
          { type: DETAIL.proof, valueString: JSON.stringify(e.proof) },
        ]
      : []),
  ];
  return {
    resourceType: 'AuditEvent',
    type: { system: DCM, code: '110106', display: 'Export' },
    subtype: [{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'disclose', display: 'Disclose Record Lifecycle Event' }],
    action: 'R',
    recorded: new Date(e.releasedAt).toISOString(),
    outcome: '0',
    outcomeDesc:
      e.batchRoot === null
        ? 'Key share released; the entry is not yet under an access-log root posted on chain'
        : 'Key share released; the entry is under the access-log root the member posted on chain',
    purposeOfEvent: [{ coding: [{ system: V3_ACT_REASON, code: purpose.code, display: PURPOSE_DISPLAYS[purpose.code] }] }],
    agent: [
      {
        type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
        who: gateway,
        requestor: false,
        ...(o.gatewayUrl ? { network: { address: o.gatewayUrl, type: '5' as const } } : {}),
      },
      { type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: referenceTo(SYSTEMS.organization, e.requester), requestor: true },
      { type: { coding: [{ system: SCT, code: '429577009', display: 'Patient Advocate' }] }, who: referenceTo(SYSTEMS.patient, e.patient), requestor: false },
    ],
    source: {
      ...(o.gatewayUrl ? { site: new URL(o.gatewayUrl).host } : {}),
      observer: gateway,
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      { what: referenceTo(SYSTEMS.patient, e.patient), type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } },
      {
        what: referenceTo(SYSTEMS.record, `${e.recordId}/v${e.version}`),
        type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
        role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
        description: `Version ${e.version} of a ${e.category} record (its key share, not its content)`,
        detail: details,
      },
    ],
  };
}

/** What a release AuditEvent says about its log entry: the leaf's fields, the member, root and proof. */
export interface ReleaseFromAuditEvent {
  leaf: ReleaseLeafFields;
  member: Address;
  batchRoot: Hex | null;
  proof: Hex[] | null;
}

/** Reads the log entry back out of a release AuditEvent (agents and details); throws if a part is missing. */
export function releaseFromAuditEvent(event: AuditEventResource): ReleaseFromAuditEvent {
  const record = event.entity.find((x) => x.what.identifier.system === SYSTEMS.record);
  const detail = (type: string): string | undefined => record?.detail?.find((d) => d.type === type)?.valueString;
  const need = (type: string): string => {
    const v = detail(type);
    if (v === undefined) throw new ReceiptInputError(`The release receipt has no ${type} detail`);
    return v;
  };
  const who = (code: string): string => {
    const agent = event.agent.find((a) => a.type.coding.some((c) => c.code === code));
    if (!agent) throw new ReceiptInputError(`The release receipt has no agent of type ${code}`);
    return agent.who.identifier.value;
  };
  const batchRoot = detail(DETAIL.batchRoot);
  const proof = detail(DETAIL.proof);
  return {
    leaf: {
      entryId: need(DETAIL.entryId),
      requester: who('110152'),
      patient: who('429577009'),
      recordId: need(DETAIL.recordId),
      version: Number(need(DETAIL.version)),
      category: need(DETAIL.category),
      purpose: Number(need(DETAIL.purpose)),
      releasedAt: need(DETAIL.releasedAt),
    },
    member: need(DETAIL.member) as Address,
    batchRoot: (batchRoot ?? null) as Hex | null,
    proof: proof === undefined ? null : (JSON.parse(proof) as Hex[]),
  };
}

/**
 * Whether the AuditEvent's entry is under its batch root by its proof (false when it names none).
 * That the member posted the root is the chain's to say: ReleaseCommittee.wasPostedBy(root, member).
 */
export function verifyReleaseAuditEvent(event: AuditEventResource): boolean {
  const { leaf, batchRoot, proof } = releaseFromAuditEvent(event);
  return batchRoot !== null && proof !== null && verifyReleaseProof(leaf, batchRoot, proof);
}
