/**
 * The patient's side of clinical sharing, in the browser: the inbox from the index (through the web
 * server's /graphql), what the chain says now (policy, organisations, live categories), and the
 * patient's transactions (approve, deny, revoke, close break-glass, set policy) through the sdk's
 * actions with the connected wallet. Nothing here touches a record or a key.
 */
import { createPublicClient, http, type Address, type PublicClient } from 'viem';
import type { Config } from 'wagmi';
import { getWalletClient } from 'wagmi/actions';
import { accessGrantsAbi } from '@consentry/sdk/abi/generated';
import {
  approveRequest,
  closeBreakGlass,
  denyRequest,
  readAccess,
  readOrganization,
  revokeGrant,
  setPolicy,
  type ActionContext,
  type ActionResult,
  type OrganizationKind,
} from '@consentry/sdk/access/actions';
import { checkAccessLog, loadAccessLog, type AccessLogCheck } from '@consentry/sdk/access/access-log';
import { graphqlRequest } from '@consentry/sdk/graphql';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';
import { describeResource } from '@consentry/sdk/records/describe';
import type { Category } from '@consentry/sdk/records/categories';
import { buildInbox, inboxSchema, kindsOf, type Inbox } from './access.ts';
import type { PublicConfig } from './public-config.ts';
import { decryptVersion, fetchRecords } from './records.client.ts';
import { categoriesOf } from '@consentry/sdk/access/actions';

export const GRAPHQL_PATH = '/graphql';

export class AccessUnavailableError extends Error {
  readonly code = 'NO_ACCESS_CONTRACTS';
  constructor() {
    super('This deployment has no access contracts (AccessGrants, OrganizationRegistry), so nobody can ask for your records yet');
    this.name = 'AccessUnavailableError';
  }
}

export function accessContracts(config: PublicConfig): { AccessGrants: Address; OrganizationRegistry: Address } {
  const c = config.contracts;
  if (!c?.AccessGrants || !c.OrganizationRegistry) throw new AccessUnavailableError();
  return { AccessGrants: c.AccessGrants, OrganizationRegistry: c.OrganizationRegistry };
}

const clients = new Map<string, PublicClient>();
/** One public client per RPC URL for the page's lifetime. */
export function chainClient(rpcUrl: string): PublicClient {
  let c = clients.get(rpcUrl);
  if (!c) clients.set(rpcUrl, (c = createPublicClient({ transport: http(rpcUrl), pollingInterval: 500 }) as PublicClient));
  return c;
}

/** The sdk actions' context from the connected wallet. */
export async function patientActionContext(wagmi: Config, config: PublicConfig): Promise<ActionContext> {
  const wallet = await getWalletClient(wagmi, { chainId: config.chainId });
  return { wallet: wallet as unknown as ActionContext['wallet'], client: chainClient(config.rpcUrl), contracts: accessContracts(config) };
}

const lowerAddress = (a: string) => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(a)) throw new Error(`Not an address: ${a}`);
  return a.toLowerCase();
};

/** The index's side of the inbox; the patient's address is checked and inlined (Bytes filters). */
export function inboxQuery(patient: Address): string {
  const p = lowerAddress(patient);
  return /* GraphQL */ `
    query PatientAccess {
      accessRequests(first: 200, where: { patient: "${p}", status: "PENDING" }, orderBy: requestId, orderDirection: desc) {
        requestId requester categories purpose duration status createdAtTimestamp createdAtBlock
      }
      accessEvents(first: 100, where: { patient: "${p}" }, orderBy: blockNumber, orderDirection: desc) {
        id kind organization actor requestId categories purpose duration expiresAt reasonHash blockNumber blockTimestamp transactionHash
      }
      grants(first: 200, where: { patient: "${p}", revoked: false }) {
        grantee categories purpose requestId grantedAt expiresAt
      }
      breakGlasses(first: 200, where: { patient: "${p}", closed: false }) {
        provider categories reasonHash openedAt expiresAt openings
      }
      patientPolicy(id: "${p}") { neverShare bannedKinds }
      _meta { block { number timestamp } }
    }
  `;
}

export interface AccessOverview extends Inbox {
  /** Chain time (seconds) and height when this was read. */
  now: number;
  chainBlock: number;
  /** Blocks the index is behind the chain (0 when caught up). */
  indexLag: number;
  /** The policy as the chain says it now (the index's may lag). */
  chainPolicy: { neverShare: Category[]; bannedKinds: OrganizationKind[] };
}

/** Inbox, grants, break-glass windows and policy: the lists from the index, time and policy from the chain. */
export async function fetchAccessOverview(config: PublicConfig, patient: Address, url = GRAPHQL_PATH): Promise<AccessOverview> {
  const client = chainClient(config.rpcUrl);
  const contracts = accessContracts(config);
  const [data, block, policy] = await Promise.all([
    graphqlRequest<unknown>(url, inboxQuery(patient)),
    client.getBlock({ blockTag: 'latest' }),
    client.readContract({ address: contracts.AccessGrants, abi: accessGrantsAbi, functionName: 'policyOf', args: [patient] }),
  ]);
  const now = Number(block.timestamp);
  const inbox = buildInbox(inboxSchema.parse(data), now);
  const chainBlock = Number(block.number);
  return {
    ...inbox,
    now,
    chainBlock,
    indexLag: inbox.indexedBlock === null ? chainBlock : Math.max(0, chainBlock - inbox.indexedBlock),
    chainPolicy: { neverShare: categoriesOf(policy.neverShare), bannedKinds: kindsOf(policy.bannedKinds) },
  };
}

/** An organisation as the registry says now (kind, accreditation). */
export function fetchOrganization(config: PublicConfig, organization: Address) {
  return readOrganization(chainClient(config.rpcUrl), accessContracts(config), organization);
}

/** What one grantee may see of the patient's records now, by the chain (grant, break-glass, policy). */
export function fetchLiveAccess(config: PublicConfig, patient: Address, grantee: Address) {
  return readAccess(chainClient(config.rpcUrl), accessContracts(config), patient, grantee);
}

export type PatientAction =
  | { kind: 'approve'; requestId: bigint; categories: readonly Category[]; durationSeconds: number }
  | { kind: 'deny'; requestId: bigint }
  | { kind: 'revoke'; grantee: Address }
  | { kind: 'close-break-glass'; patient: Address; provider: Address }
  | { kind: 'set-policy'; neverShare: readonly Category[]; bannedKinds: readonly OrganizationKind[] };

/** Sends one of the patient's transactions and waits for its receipt. */
export async function runPatientAction(wagmi: Config, config: PublicConfig, action: PatientAction): Promise<ActionResult> {
  const ctx = await patientActionContext(wagmi, config);
  switch (action.kind) {
    case 'approve':
      return approveRequest(ctx, action);
    case 'deny':
      return denyRequest(ctx, action.requestId);
    case 'revoke':
      return revokeGrant(ctx, action.grantee);
    case 'close-break-glass':
      return closeBreakGlass(ctx, action);
    case 'set-policy':
      return setPolicy(ctx, action);
  }
}

/**
 * "Who saw my records": the patient's releases from the index, each proven against the log roots the
 * committee members posted on chain (ReleaseCommittee.wasPostedBy), grouped into reads.
 */
export async function fetchCheckedAccessLog(config: PublicConfig, patient: Address, url = GRAPHQL_PATH): Promise<AccessLogCheck> {
  const committee = config.contracts?.ReleaseCommittee;
  if (!committee) throw new Error('This deployment has no release committee, so nothing can have been released');
  const { releases, roots } = await loadAccessLog(url, patient);
  return checkAccessLog({ releases, roots, client: chainClient(config.rpcUrl), committee });
}

/** One line per record version the patient owns ("HbA1c 6.4 % · 2024-03-01"), decrypted in this page. */
export async function summariesOf(keys: EncryptionKeyPair): Promise<Map<string, string>> {
  const data = await fetchRecords();
  const out = new Map<string, string>();
  for (const v of data.versions) {
    if (!v.sealedKey) continue;
    try {
      const d = describeResource(await decryptVersion(v, keys));
      out.set(`${v.recordId.toLowerCase()}:${v.version}`, [d.title, d.detail].filter(Boolean).join(' · '));
    } catch {
      // erased or unreadable: the category alone is shown
    }
  }
  return out;
}

export interface WebhookInfo {
  url: string;
  createdAt: number;
  fromBlock: number;
}

/** A refusal of the web server's API, with its stable code and words. */
export class WebhookApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookApiError';
  }
}

async function webhookApi<T>(init?: RequestInit): Promise<T> {
  const res = await fetch('/api/webhook', { credentials: 'same-origin', ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  const body = (await res.json().catch(() => null)) as (T & { error?: { code: string; message: string } }) | null;
  if (!res.ok || !body) throw new WebhookApiError(body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `The server answered ${res.status}`);
  return body;
}

/** The signed-in patient's webhook (never its secret), or null. */
export const fetchWebhook = async (): Promise<WebhookInfo | null> => (await webhookApi<{ webhook: WebhookInfo | null }>()).webhook;
/** Sets or replaces the webhook; the secret comes back this once. */
export const saveWebhook = (url: string): Promise<{ webhook: WebhookInfo; secret: string }> => webhookApi({ method: 'POST', body: JSON.stringify({ url }) });
export const clearWebhook = (): Promise<{ cleared: boolean }> => webhookApi({ method: 'DELETE' });
