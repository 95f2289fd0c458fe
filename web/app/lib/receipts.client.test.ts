// The browser's receipts from what the page holds: a grant row of the index (with the approval's
// transaction when the patient's events include it) as a Consent, and the index's Release (the entry
// id is the leaf's id) as an AuditEvent that re-checks against its root; both validate as FHIR R4.
// The chain-read enrollment receipt runs in e2e/eligibility.e2e.ts. Synthetic data only.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { RELEASE_LOG_ENCODING, releaseLeafValues, type ReleaseEntry } from '@consentry/sdk/access/access-log';
import { releaseAuditEvent, verifyReleaseAuditEvent } from '@consentry/sdk/receipts/index';
import { validateFhirResource } from '@consentry/sdk/records/fhir';
import type { AccessEventRow, GrantRow } from './access.ts';
import { grantReceipt, receiptFileName, releaseLogEntry } from './receipts.client.ts';

const patient = '0x00000000000000000000000000000000000000a1';
const clinic = '0x00000000000000000000000000000000000000d1';
const member = '0x00000000000000000000000000000000000000c1';
const t0 = 1_800_000_000;
const grant: GrantRow = { grantee: clinic, categories: 0b1, purpose: 0, requestId: 7, grantedAt: t0, expiresAt: t0 + 7 * 86_400 };
const approval: AccessEventRow = {
  id: keccak256(toHex('event')),
  kind: 'REQUEST_APPROVED',
  organization: clinic,
  actor: patient,
  requestId: 7,
  categories: 0b1,
  purpose: 0,
  duration: null,
  expiresAt: t0 + 7 * 86_400,
  reasonHash: null,
  blockNumber: 12,
  blockTimestamp: t0,
  transactionHash: keccak256(toHex('approval tx')),
};

describe('grantReceipt', () => {
  it('is the grant as a privacy Consent with the approval transaction, active until it expires', () => {
    const c = grantReceipt({ chainId: 31337, patient, grant, events: [approval], now: t0 + 60 });
    expect(validateFhirResource(c)).toEqual([]);
    expect(c).toMatchObject({ resourceType: 'Consent', status: 'active', patient: { identifier: { value: patient } } });
    expect(c.provision.actor![0]!.reference.identifier.value).toBe(clinic);
    expect(c.identifier[0]!.value).toBe('eip155:31337:7');
    expect(JSON.stringify(c.extension)).toContain(approval.transactionHash);
    expect(grantReceipt({ chainId: 31337, patient, grant, events: [approval], now: t0 + 8 * 86_400 }).status).toBe('inactive');
  });

  it("leaves the transaction out when the events do not hold that request's approval", () => {
    const other = { ...approval, requestId: 8 };
    const c = grantReceipt({ chainId: 31337, patient, grant, events: [other], now: t0 });
    expect(validateFhirResource(c)).toEqual([]);
    expect(c.extension).toEqual([]);
  });
});

describe('releaseLogEntry', () => {
  const release = (seq: number): ReleaseEntry => ({
    id: `${member}-${seq}`,
    member,
    seq,
    entryId: keccak256(toHex(`entry ${seq}`)),
    requester: clinic,
    patient,
    recordId: keccak256(toHex(`record ${seq}`)),
    version: 1,
    category: 'labs',
    purpose: 0,
    releasedAt: String(t0 * 1000 + seq),
    batchRoot: null,
    proof: null,
  });

  it('gives an AuditEvent that verifies against the root the index names, and not once altered', () => {
    const entries = [release(1), release(2)];
    const tree = StandardMerkleTree.of(entries.map((e) => releaseLeafValues({ ...e, releasedAt: BigInt(e.releasedAt) })), [...RELEASE_LOG_ENCODING]);
    const rooted = entries.map((e, i) => ({ ...e, batchRoot: tree.root, proof: tree.getProof(i) }));
    const event = releaseAuditEvent(releaseLogEntry(rooted[1]!), { chainId: 31337 });
    expect(validateFhirResource(event)).toEqual([]);
    expect(verifyReleaseAuditEvent(event)).toBe(true);
    const altered = releaseAuditEvent(releaseLogEntry({ ...rooted[1]!, requester: member }), { chainId: 31337 });
    expect(verifyReleaseAuditEvent(altered)).toBe(false);
    expect(verifyReleaseAuditEvent(releaseAuditEvent(releaseLogEntry(release(3)), { chainId: 31337 }))).toBe(false);
  });
});

describe('receiptFileName', () => {
  it('names the kind and the subject in safe characters', () => {
    expect(receiptFileName('enrollment', 'study-3')).toBe('consentry-enrollment-study-3.fhir.json');
    expect(receiptFileName('grant', 7)).toBe('consentry-grant-7.fhir.json');
    expect(receiptFileName('release', '0xab/../cd')).toBe('consentry-release-0xab-cd.fhir.json');
  });
});
