// Release receipts: a gateway log entry, rooted in a real StandardMerkleTree batch as a gateway roots
// it, becomes a BALP privacy-disclosure AuditEvent that validates with the repository's FHIR R4
// validator (decision 006), uses codes R4 defines, and carries what a patient needs to re-check the
// entry against the member's root; a pending entry (no root yet) is a receipt too. Synthetic data only.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toHex, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { RELEASE_LOG_ENCODING, releaseLeafValues } from '../access/access-log.ts';
import { validateFhirResource } from '../records/fhir.ts';
import { DETAIL, releaseAuditEvent, releaseFromAuditEvent, verifyReleaseAuditEvent, type AuditEventResource, type ReleaseLogEntry } from './audit-event.ts';
import { SYSTEMS } from './common.ts';
import { isR4Code } from './testing/r4-codes.ts';

const member = '0x00000000000000000000000000000000000000c1';
const clinic = '0x00000000000000000000000000000000000000d1';
const patient = '0x00000000000000000000000000000000000000a1';
const t0 = 1_800_000_000_123; // ms

function entry(seq: number, over: Partial<ReleaseLogEntry> = {}): ReleaseLogEntry {
  return {
    id: keccak256(toHex(`${member}:${seq}`)),
    member,
    requester: clinic,
    patient,
    recordId: keccak256(toHex(`record ${seq}`)),
    version: seq,
    category: seq === 2 ? 'mental-health' : 'labs',
    purpose: 0,
    releasedAt: t0 + seq * 1000,
    batchRoot: null,
    proof: null,
    ...over,
  };
}

/** Roots a batch as a gateway does and fills batchRoot and proof in. */
function rooted(entries: ReleaseLogEntry[]): ReleaseLogEntry[] {
  const tree = StandardMerkleTree.of(
    entries.map((e) => releaseLeafValues({ ...e, entryId: e.id })),
    [...RELEASE_LOG_ENCODING],
  );
  return entries.map((e, i) => ({ ...e, batchRoot: tree.root, proof: tree.getProof(i) }));
}

const detail = (event: AuditEventResource, type: string) => event.entity[1]!.detail?.find((d) => d.type === type)?.valueString;
const withDetail = (event: AuditEventResource, type: string, value: string): AuditEventResource => ({
  ...event,
  entity: [event.entity[0]!, { ...event.entity[1]!, detail: event.entity[1]!.detail!.map((d) => (d.type === type ? { ...d, valueString: value } : d)) }],
});

/** Every coding from an HL7/THO code system is one R4 defines; DICOM and SNOMED CT codes are the BALP profile's. */
function expectR4Codes(a: AuditEventResource) {
  const codings = [a.type, ...a.subtype, ...a.purposeOfEvent.flatMap((p) => p.coding), ...a.agent.flatMap((x) => x.type.coding), ...a.source.type, ...a.entity.flatMap((x) => [x.type, x.role])];
  for (const c of codings.filter((x) => x.system.startsWith('http://terminology.hl7.org/'))) {
    expect(isR4Code(c.system, c.code), `${c.system}#${c.code}`).toBe(true);
  }
  expect(isR4Code('http://hl7.org/fhir/audit-event-action', a.action)).toBe(true);
  expect(isR4Code('http://hl7.org/fhir/audit-event-outcome', a.outcome)).toBe(true);
  for (const x of a.agent) if (x.network) expect(isR4Code('http://hl7.org/fhir/network-type', x.network.type)).toBe(true);
}

describe('releaseAuditEvent', () => {
  it('is a BALP privacy-disclosure AuditEvent of the release: who released what to whom, when and why', () => {
    const batch = rooted([entry(1), entry(2), entry(3)]);
    const a = releaseAuditEvent(batch[1]!, { chainId: 31337, gatewayUrl: 'http://127.0.0.1:8701' });
    expect(validateFhirResource(a)).toEqual([]);
    expectR4Codes(a);
    expect(a.type).toEqual({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' });
    expect(a.subtype).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'disclose', display: 'Disclose Record Lifecycle Event' }]);
    expect(a.action).toBe('R');
    expect(a.outcome).toBe('0');
    expect(a.recorded).toBe(new Date(t0 + 2000).toISOString());
    expect(a.purposeOfEvent[0]!.coding).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT', display: 'treatment' }]);
    const [source, recipient, authorizer] = a.agent;
    expect(source).toEqual({
      type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110153', display: 'Source Role ID' }] },
      who: { identifier: { system: SYSTEMS.committeeMember, value: member } },
      requestor: false,
      network: { address: 'http://127.0.0.1:8701', type: '5' },
    });
    expect(recipient).toMatchObject({ type: { coding: [{ code: '110152' }] }, who: { identifier: { system: SYSTEMS.organization, value: clinic } }, requestor: true });
    expect(authorizer).toMatchObject({ type: { coding: [{ system: 'http://snomed.info/sct', code: '429577009' }] }, who: { identifier: { system: SYSTEMS.patient, value: patient } }, requestor: false });
    expect(a.source).toMatchObject({ site: '127.0.0.1:8701', observer: { identifier: { system: SYSTEMS.committeeMember, value: member } } });
    const [patientEntity, record] = a.entity;
    expect(patientEntity).toMatchObject({ what: { identifier: { value: patient } }, type: { code: '1' }, role: { code: '1' } });
    expect(record!.what.identifier).toEqual({ system: SYSTEMS.record, value: `${batch[1]!.recordId}/v2` });
    expect(detail(a, DETAIL.category)).toBe('mental-health');
    expect(detail(a, DETAIL.version)).toBe('2');
    expect(detail(a, DETAIL.chain)).toBe('eip155:31337');
    expect(detail(a, DETAIL.batchRoot)).toBe(batch[1]!.batchRoot);
    expect(JSON.parse(detail(a, DETAIL.proof)!)).toEqual(batch[1]!.proof);
  });

  it('lets the patient re-check the entry against the member\'s root from the receipt alone; any change fails', () => {
    const batch = rooted([entry(1), entry(2), entry(3), entry(4, { purpose: 4, category: 'genomics' })]);
    for (const e of batch) {
      const a = releaseAuditEvent(e);
      expect(verifyReleaseAuditEvent(a)).toBe(true);
      // Through JSON, as an exported receipt is read back.
      expect(verifyReleaseAuditEvent(JSON.parse(JSON.stringify(a)) as AuditEventResource)).toBe(true);
      expect(releaseFromAuditEvent(a)).toMatchObject({ member, batchRoot: e.batchRoot, leaf: { entryId: e.id, requester: clinic, patient, version: e.version, category: e.category, purpose: e.purpose } });
    }
    const a = releaseAuditEvent(batch[0]!);
    expect(verifyReleaseAuditEvent(withDetail(a, DETAIL.version, '9'))).toBe(false);
    expect(verifyReleaseAuditEvent(withDetail(a, DETAIL.category, 'notes'))).toBe(false);
    expect(verifyReleaseAuditEvent(withDetail(a, DETAIL.releasedAt, String(t0)))).toBe(false);
    expect(verifyReleaseAuditEvent(withDetail(a, DETAIL.batchRoot, keccak256(toHex('another root'))))).toBe(false);
    const otherClinic = { ...a, agent: a.agent.map((x, i) => (i === 1 ? { ...x, who: { identifier: { system: SYSTEMS.organization, value: '0x00000000000000000000000000000000000000d2' } } } : x)) };
    expect(verifyReleaseAuditEvent(otherClinic)).toBe(false);
  });

  it('is a receipt while the entry is not yet under a posted root, and says so', () => {
    const a = releaseAuditEvent(entry(5, { purpose: 1 }));
    expect(validateFhirResource(a)).toEqual([]);
    expectR4Codes(a);
    expect(a.outcomeDesc).toMatch(/not yet under an access-log root/);
    expect(detail(a, DETAIL.batchRoot)).toBeUndefined();
    expect(detail(a, DETAIL.chain)).toBeUndefined();
    expect(a.agent[0]).not.toHaveProperty('network');
    expect(a.source).not.toHaveProperty('site');
    expect(a.purposeOfEvent[0]!.coding[0]!.code).toBe('ETREAT');
    expect(verifyReleaseAuditEvent(a)).toBe(false);
  });

  it('refuses entries a receipt cannot be built from', () => {
    const root = keccak256(toHex('root')) as Hex;
    expect(() => releaseAuditEvent(entry(1, { batchRoot: root }))).toThrow(expect.objectContaining({ code: 'RECEIPT_INPUT_INVALID', message: expect.stringMatching(/both or neither/) }));
    expect(() => releaseAuditEvent(entry(1, { category: 'x-rays' }))).toThrow(/category/);
    expect(() => releaseAuditEvent(entry(1, { purpose: 8 }))).toThrow(/purpose/);
    expect(() => releaseAuditEvent(entry(1, { requester: 'clinic' }))).toThrow(/requester/);
    expect(() => releaseAuditEvent(entry(1), { gatewayUrl: 'not a url' })).toThrow(/gatewayUrl/);
  });
});
