/**
 * Consent receipts in the browser (issue 8, item 4): a participant's enrollment and a patient's
 * clinical grant as FHIR R4 `Consent`, a logged release as a FHIR `AuditEvent`, built in this page
 * by the sdk's receipts from what the chain and the index say, and saved as a JSON file. Nothing is
 * sent anywhere: the receipt is made from public facts and stays in the browser until downloaded.
 */
import { createElement as h, useState } from 'react';
import type { Address, PublicClient } from 'viem';
import { consentTokenAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import type { ReleaseEntry } from '@consentry/sdk/access/access-log';
import { ConsentryError } from '@consentry/sdk/errors';
import { graphqlRequest } from '@consentry/sdk/graphql';
import { enrollmentConsent, grantConsent, releaseAuditEvent, type AuditEventResource, type ConsentResource } from '@consentry/sdk/receipts/index';
import { readConsent, readStudy, type ZkContracts } from '@consentry/sdk/zk/chain';
import type { AccessEventRow, GrantRow } from './access.ts';
import { download } from './irb.client.ts';

export type Receipt = ConsentResource | AuditEventResource;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The Consent of `participant`'s enrollment in `studyId`, from the chain alone: the study's terms,
 * the Enrolled event (its transaction and block time), the consent token's expiry and revocation,
 * and the IRB decision that approved the study before the enrollment.
 */
export async function enrollmentReceipt(
  client: PublicClient,
  opts: { chainId: number; contracts: ZkContracts; fromBlock: bigint; studyId: bigint; participant: Address },
): Promise<ConsentResource> {
  const { contracts, studyId, participant, fromBlock } = opts;
  const consentToken = contracts.ConsentToken;
  if (!consentToken) throw new ConsentryError('NO_CONSENT_TOKEN', 'This deployment has no ConsentToken, so it holds no consent to give a receipt for');
  const registry = { address: contracts.StudyRegistry, abi: studyRegistryAbi, fromBlock } as const;
  const [study, enrolled, decided, revoked, consent, latest] = await Promise.all([
    readStudy(client, contracts, studyId),
    client.getContractEvents({ ...registry, eventName: 'Enrolled', args: { studyId, participant } }),
    client.getContractEvents({ ...registry, eventName: 'StudyDecided', args: { studyId } }),
    client.getContractEvents({ address: consentToken, abi: consentTokenAbi, eventName: 'ConsentRevoked', fromBlock, args: { studyId, holder: participant } }),
    readConsent(client, contracts, participant, studyId),
    client.getBlock({ blockTag: 'latest' }),
  ]);
  const enrollment = enrolled[0];
  if (!study || !enrollment) throw new ConsentryError('RECEIPT_NOT_ENROLLED', `This study address has not enrolled in study #${studyId}`);
  const approval = decided.filter((l) => l.args.approved && l.blockNumber <= enrollment.blockNumber).at(-1);
  if (!approval) throw new ConsentryError('RECEIPT_NO_APPROVAL', `Study #${studyId} has no IRB approval before your enrollment`);
  const revocation = revoked[0];
  const timeOf = async (blockNumber: bigint) => Number((await client.getBlock({ blockNumber })).timestamp);
  const [enrolledAt, decidedAt, revokedAt] = await Promise.all([timeOf(enrollment.blockNumber), timeOf(approval.blockNumber), revocation ? timeOf(revocation.blockNumber) : null]);
  return enrollmentConsent(
    {
      chainId: opts.chainId,
      studyId,
      participant,
      consentHash: study.consentHash,
      protocolHash: study.protocolHash,
      categories: study.categories,
      enrolledAt,
      // The token's own expiry (ConsentToken.expiresAt) is what the market counts by.
      expiresAt: consent.expiresAt,
      transactionHash: enrollment.transactionHash,
      irbApproval: { irb: approval.args.irb!, transactionHash: approval.transactionHash, decidedAt },
      researcher: study.researcher,
      revoked: revocation && revokedAt !== null ? { at: revokedAt, transactionHash: revocation.transactionHash } : null,
    },
    { asOf: latest.timestamp },
  );
}

/**
 * The Consent of one of the patient's grants, as the index lists it, with the approval's transaction
 * when the patient's recent events include it; `now` is chain time (seconds).
 */
export function grantReceipt(opts: { chainId: number; patient: Address; grant: GrantRow; events: readonly AccessEventRow[]; now: number }): ConsentResource {
  const { grant } = opts;
  const approval = opts.events.find((e) => e.kind === 'REQUEST_APPROVED' && e.requestId === grant.requestId && same(e.organization, grant.grantee));
  return grantConsent(
    {
      chainId: opts.chainId,
      patient: opts.patient,
      grantee: grant.grantee,
      categories: grant.categories,
      purpose: grant.purpose,
      requestId: grant.requestId,
      grantedAt: grant.grantedAt,
      expiresAt: grant.expiresAt,
      transactionHash: approval?.transactionHash,
    },
    { asOf: opts.now },
  );
}

const RELEASE_QUERY = `query ReleaseReceipt($id: ID!) {
  release(id: $id) { id member seq entryId requester patient recordId version category purpose releasedAt batchRoot proof }
}`;

/** A release the index holds (by its id) as an AuditEvent with its Merkle proof, when the member has posted its root. */
export async function releaseReceipt(graphqlUrl: string, chainId: number, releaseId: string): Promise<AuditEventResource> {
  const { release } = await graphqlRequest<{ release: ReleaseEntry | null }>(graphqlUrl, RELEASE_QUERY, { id: releaseId });
  if (!release) throw new ConsentryError('RECEIPT_NO_RELEASE', 'The index does not hold this release any more');
  return releaseAuditEvent(releaseLogEntry(release), { chainId });
}

/** The index's Release as the gateway's log entry it was read from (the entry id is the leaf's id). */
export function releaseLogEntry(r: ReleaseEntry) {
  return {
    id: r.entryId,
    member: r.member,
    requester: r.requester,
    patient: r.patient,
    recordId: r.recordId,
    version: r.version,
    category: r.category,
    purpose: r.purpose,
    releasedAt: r.releasedAt,
    batchRoot: r.batchRoot,
    proof: r.proof,
  };
}

/** The file name a receipt is saved under: its kind and what it is about, never a wallet address. */
export function receiptFileName(kind: 'enrollment' | 'grant' | 'release', id: string | number | bigint): string {
  return `consentry-${kind}-${String(id).replace(/[^0-9A-Za-z]+/g, '-').slice(0, 80)}.fhir.json`;
}

/** Saves a receipt as a JSON file through the browser's download. */
export function downloadReceipt(resource: Receipt, fileName: string): void {
  download(fileName, `${JSON.stringify(resource, null, 2)}\n`, 'application/fhir+json');
}

export type ReceiptState = { phase: 'idle' } | { phase: 'building' } | { phase: 'saved'; fileName: string } | { phase: 'failed'; problem: string };

/** Builds a receipt and saves it, with its state in words for a role=status / role=alert line. */
export function useReceiptDownload(describe: (err: unknown) => string) {
  const [state, setState] = useState<ReceiptState>({ phase: 'idle' });
  const download = async (build: () => Promise<Receipt> | Receipt, fileName: string) => {
    setState({ phase: 'building' });
    try {
      downloadReceipt(await build(), fileName);
      setState({ phase: 'saved', fileName });
    } catch (err) {
      setState({ phase: 'failed', problem: err instanceof ConsentryError ? err.message : describe(err) });
    }
  };
  return { state, download, busy: state.phase === 'building' };
}

/** The state line's words. */
export function receiptStateWords(state: ReceiptState): string {
  if (state.phase === 'building') return 'Building the receipt from the chain…';
  if (state.phase === 'saved') return `Saved ${state.fileName}`;
  if (state.phase === 'failed') return `The receipt could not be made: ${state.problem}`;
  return '';
}

/**
 * A button that builds a receipt and saves it, with its state below it (written without JSX: this
 * module is .ts). `testId` names the button for the journeys.
 */
export function ReceiptButton(props: { label: string; fileName: string; build: () => Promise<Receipt> | Receipt; describe: (err: unknown) => string; testId: string }) {
  const { state, download, busy } = useReceiptDownload(props.describe);
  return h(
    'span',
    { className: 'receipt-download' },
    h('button', { type: 'button', className: 'button button--quiet', disabled: busy, 'data-testid': props.testId, onClick: () => void download(props.build, props.fileName) }, props.label),
    h(
      'span',
      { role: state.phase === 'failed' ? 'alert' : 'status', 'aria-live': 'polite', className: state.phase === 'failed' ? 'error small' : 'muted small', 'data-testid': `${props.testId}-status`, 'data-phase': state.phase },
      receiptStateWords(state),
    ),
  );
}
