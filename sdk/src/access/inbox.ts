/**
 * A patient's inbox, from the index (the embedded indexer or The Graph: only subgraph entities are
 * used): requests waiting for an answer, and everything that happened to their access, newest first
 * (requests, approvals, denials, cancellations, revocations, break-glass openings and closings).
 * Browser-safe.
 */
import type { Address } from 'viem';
import { graphqlRequest } from '../graphql.ts';
import { CATEGORIES, type Category } from '../records/categories.ts';

export type InboxEventKind =
  | 'REQUEST_CREATED'
  | 'REQUEST_APPROVED'
  | 'REQUEST_DENIED'
  | 'REQUEST_CANCELLED'
  | 'GRANT_REVOKED'
  | 'BREAK_GLASS_OPENED'
  | 'BREAK_GLASS_CLOSED'
  // Guardian recovery of the account (decision 031); requestId carries the recovery's nonce.
  | 'RECOVERY_STARTED'
  | 'RECOVERY_APPROVED'
  | 'RECOVERY_READY'
  | 'RECOVERY_CANCELLED'
  | 'ACCOUNT_RECOVERED'
  | 'GUARDIANS_CHANGED'
  | 'GUARDIAN_CHANGE_PROPOSED'
  | 'GUARDIAN_CHANGE_CANCELLED';

export interface InboxEvent {
  id: string;
  kind: InboxEventKind;
  /** The requester, grantee or emergency provider. */
  organization: Address;
  /** Who acted: the organisation, or the patient. */
  actor: Address;
  requestId: bigint | null;
  categories: Category[] | null;
  purpose: number | null;
  /** Seconds asked for (REQUEST_CREATED). */
  duration: number | null;
  /** Unix seconds: end of the approved grant or the break-glass window. */
  expiresAt: number | null;
  transactionHash: string;
  blockNumber: number;
  /** Unix seconds (block time). */
  at: number;
}

export interface PendingRequest {
  requestId: bigint;
  requester: Address;
  categories: Category[];
  purpose: number;
  /** Seconds asked for. */
  duration: number;
  /** Unix seconds. */
  createdAt: number;
}

export interface Inbox {
  pending: PendingRequest[];
  events: InboxEvent[];
}

export const INBOX_QUERY = `query Inbox($patient: Bytes!, $first: Int!) {
  accessRequests(where: { patient: $patient, status: "PENDING" }, orderBy: createdAtBlock, orderDirection: desc, first: 1000) {
    requestId requester categories purpose duration createdAtTimestamp
  }
  accessEvents(where: { patient: $patient }, orderBy: blockNumber, orderDirection: desc, first: $first) {
    id kind organization actor requestId categories purpose duration expiresAt transactionHash blockNumber blockTimestamp logIndex
  }
}`;

type Raw = {
  accessRequests: Array<{ requestId: string; requester: Address; categories: number; purpose: number; duration: string; createdAtTimestamp: string }>;
  accessEvents: Array<{
    id: string;
    kind: InboxEventKind;
    organization: Address;
    actor: Address;
    requestId: string | null;
    categories: number | null;
    purpose: number | null;
    duration: string | null;
    expiresAt: string | null;
    transactionHash: string;
    blockNumber: string;
    blockTimestamp: string;
    logIndex: string;
  }>;
};

/** The category names of a bitmask (bit i = CATEGORIES[i]). */
export function categoriesOf(mask: number): Category[] {
  return CATEGORIES.filter((_, i) => (mask & (1 << i)) !== 0);
}

const num = (v: string | null) => (v === null ? null : Number(v));

/** The patient's inbox: pending requests and the latest `first` events (default 100), newest first. */
export async function loadInbox(graphqlUrl: string, patient: Address, options: { first?: number; fetchImpl?: typeof fetch } = {}): Promise<Inbox> {
  const data = await graphqlRequest<Raw>(
    graphqlUrl,
    INBOX_QUERY,
    { patient: patient.toLowerCase(), first: options.first ?? 100 },
    options.fetchImpl ? { fetchImpl: options.fetchImpl } : {},
  );
  const events = data.accessEvents
    .map((e) => ({ e, block: Number(e.blockNumber), log: Number(e.logIndex) }))
    // Within a block the log index orders them (the index orders by block only).
    .sort((a, b) => b.block - a.block || b.log - a.log)
    .map(({ e }): InboxEvent => ({
      id: e.id,
      kind: e.kind,
      organization: e.organization,
      actor: e.actor,
      requestId: e.requestId === null ? null : BigInt(e.requestId),
      categories: e.categories === null ? null : categoriesOf(e.categories),
      purpose: e.purpose,
      duration: num(e.duration),
      expiresAt: num(e.expiresAt),
      transactionHash: e.transactionHash,
      blockNumber: Number(e.blockNumber),
      at: Number(e.blockTimestamp),
    }));
  const pending = data.accessRequests.map((r) => ({
    requestId: BigInt(r.requestId),
    requester: r.requester,
    categories: categoriesOf(r.categories),
    purpose: r.purpose,
    duration: Number(r.duration),
    createdAt: Number(r.createdAtTimestamp),
  }));
  return { pending, events };
}
