/**
 * The requester's side of clinical sharing, in the browser: the requester's own X25519 keys (from
 * a wallet signature, as for patients), the committee's gateways, the record list the server may
 * show it, and reading one record: k gateways release data-key shares re-sealed to the requester's
 * key, and the record is decrypted here. The web server never sees the record, the data key or the
 * requester's secret key (ARCHITECTURE.md, "Trust model").
 */
import type { Address, Hex, PublicClient } from 'viem';
import { z } from 'zod';
import type { Config } from 'wagmi';
import { getPublicClient, getWalletClient, signTypedData } from 'wagmi/actions';
import { organizationRegistryAbi } from '@consentry/sdk/abi/generated';
import type { ActionContext } from '@consentry/sdk/access/actions';
import { graphqlRequest } from '@consentry/sdk/graphql';
import { fetchDataKey, probeGateways, readCommittee, ReleaseRefusedError, type GatewayRef } from '@consentry/sdk/access/release';
import { decryptRecord } from '@consentry/sdk/crypto/envelope';
import { CommitteeUnavailableError } from '@consentry/sdk/crypto/shares';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import type { Category } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { keyFor, rememberKey } from './keyring.ts';
import { ApiCallError, ensureSession } from './records.client.ts';

export type { GatewayRef } from '@consentry/sdk/access/release';

/**
 * The requester's X25519 key pair, derived from its wallet's signature of the fixed key-derivation
 * message (decision 005), remembered in the page's keyring (memory only) so the wallet signs once.
 */
export async function requesterKeys(config: Config, account: Address, chainId: number): Promise<EncryptionKeyPair> {
  const known = keyFor(account);
  if (known) return known;
  const signature = await signTypedData(config, { account, ...keyDerivationTypedData(chainId) });
  const pair = deriveEncryptionKeyPair(signature);
  rememberKey(account, pair);
  return pair;
}

/** A gateway that could not say who it is; the others are still used. */
export class GatewaysUnavailableError extends Error {
  readonly code = 'GATEWAYS_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'GatewaysUnavailableError';
  }
}

/**
 * Asks each gateway's GET /health which committee member it serves. Gateways that do not answer
 * are left out (a k-of-n committee tolerates some down); none answering is an error in words.
 */
export async function gatewayRefs(gatewayUrls: readonly string[], fetchImpl: typeof fetch = fetch): Promise<GatewayRef[]> {
  if (gatewayUrls.length === 0) throw new GatewaysUnavailableError('No release gateways are configured (GATEWAY_URLS), so no record can be released');
  const { refs } = await probeGateways(gatewayUrls, fetchImpl);
  if (refs.length === 0) throw new GatewaysUnavailableError(`None of the ${gatewayUrls.length} release gateways answered (${gatewayUrls.join(', ')})`);
  return refs;
}

/** What GET /api/access/:patient/records answers (one definition, the server's; types only cross). */
export type { ListedRecord, RequesterRecords } from './clinical.server.ts';
import type { RequesterRecords } from './clinical.server.ts';

/**
 * The patient's records the signed-in requester may see listed (categories it asked for or holds
 * live). Signs in first if needed (a free signed message). A 403 comes back as an ApiCallError in words.
 */
export async function fetchRequesterRecords(config: Config, account: Address, chainId: number, patient: Address): Promise<RequesterRecords> {
  await ensureSession(config, account, chainId);
  const res = await fetch(`/api/access/${patient}/records`, { credentials: 'same-origin' });
  const body = (await res.json().catch(() => null)) as (RequesterRecords & { error?: { code: string; message: string } }) | null;
  if (!res.ok || !body || body.error) throw new ApiCallError(body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `The server answered ${res.status}`);
  return body;
}

/** A read that did not happen, in words; `code` is stable (NO_GRANT, GRANT_EXPIRED, CATEGORY_NOT_COVERED, COMMITTEE_UNAVAILABLE …). */
export class ClinicalReadError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly failures: ReadonlyArray<{ member: string; reason: string }> = [],
  ) {
    super(message);
    this.name = 'ClinicalReadError';
  }
}

export interface ClinicalRead {
  resource: FhirResource;
  category: string;
  /** Committee members whose shares were combined. */
  releasedBy: string[];
  /** Members that refused or did not answer (a read succeeds with k of n). */
  failures: Array<{ member: string; reason: string }>;
}

export interface ReadRecordOptions {
  config: Config;
  account: Address;
  chainId: number;
  contracts: { AccessGrants: Address | null; ReleaseCommittee: Address | null };
  gateways: readonly GatewayRef[];
  patient: Address;
  recordId: Hex;
  version: number;
  keys: EncryptionKeyPair;
}

/**
 * Releases one record version through the committee and decrypts it in this browser. Each gateway
 * gets its own EIP-712 request signed by the wallet (development accounts sign in the page).
 * @throws ClinicalReadError with the committee's refusal or outage in words.
 */
export async function readRecord(o: ReadRecordOptions): Promise<ClinicalRead> {
  const { AccessGrants, ReleaseCommittee } = o.contracts;
  if (!AccessGrants || !ReleaseCommittee) throw new ClinicalReadError('NO_ACCESS_CONTRACTS', 'This deployment has no access contracts, so no record can be released');
  const client = getPublicClient(o.config, { chainId: o.chainId }) as PublicClient | undefined;
  if (!client) throw new ClinicalReadError('WRONG_CHAIN', `The app is not configured for chain ${o.chainId}`);
  let fetched;
  try {
    fetched = await fetchDataKey({
      gateways: o.gateways,
      committee: await readCommittee(client, ReleaseCommittee),
      chainId: o.chainId,
      verifyingContract: AccessGrants,
      requester: o.account,
      requesterKeys: o.keys,
      sign: (typed) => signTypedData(o.config, { account: o.account, ...typed }),
      patient: o.patient,
      recordId: o.recordId,
      version: o.version,
    });
  } catch (err) {
    throw readErrorOf(err);
  }
  let resource: FhirResource;
  try {
    const plaintext = decryptRecord({ ciphertext: fetched.ciphertext, dek: fetched.dek, recordId: o.recordId, version: o.version, category: fetched.category });
    resource = JSON.parse(new TextDecoder().decode(plaintext)) as FhirResource;
  } catch {
    throw new ClinicalReadError('DECRYPTION_FAILED', 'The released key does not open this record (the gateways answered for another record, or the record was altered)');
  }
  return { resource, category: fetched.category, releasedBy: fetched.releasedBy, failures: fetched.failures };
}

/** Any failure of a release as a ClinicalReadError whose message a clinician can act on. */
export function readErrorOf(err: unknown): ClinicalReadError {
  if (err instanceof ClinicalReadError) return err;
  if (err instanceof ReleaseRefusedError) {
    // Every gateway gave the same reason: that reason is the answer (e.g. "Your grant does not cover this record's category").
    return new ClinicalReadError(err.code, err.failures[0]?.reason ?? err.message, err.failures);
  }
  if (err instanceof CommitteeUnavailableError) {
    // Its message names the members that gave no share and why ("Committee unavailable: 1 of the 2 shares needed; no share from member 0x…").
    return new ClinicalReadError('COMMITTEE_UNAVAILABLE', err.message, err.missing.map((m) => ({ member: m, reason: 'no share' })));
  }
  const e = err as { name?: string; code?: unknown; message?: string };
  if (e?.name === 'UserRejectedRequestError' || e?.code === 4001) return new ClinicalReadError('DECLINED', 'You declined the signature');
  return new ClinicalReadError(typeof e?.code === 'string' ? e.code : 'READ_FAILED', `The record could not be read: ${(e?.message ?? String(err)).split('\n')[0]}`);
}

/** The chain's read client for the configured chain, or an error in words. */
export function chainClient(config: Config, chainId: number): PublicClient {
  const client = getPublicClient(config, { chainId }) as PublicClient | undefined;
  if (!client) throw new ClinicalReadError('WRONG_CHAIN', `The app is not configured for chain ${chainId}`);
  return client;
}

/** What the sdk's access actions need, from the connected wallet (wagmi) and the public config. */
export async function actionContext(
  config: Config,
  chainId: number,
  contracts: { AccessGrants: Address | null; OrganizationRegistry: Address | null } | null,
): Promise<ActionContext> {
  if (!contracts?.AccessGrants || !contracts.OrganizationRegistry) {
    throw new ClinicalReadError('NO_ACCESS_CONTRACTS', 'This deployment has no access contracts (AccessGrants, OrganizationRegistry)');
  }
  const wallet = await getWalletClient(config, { chainId });
  return { wallet: wallet as unknown as ActionContext['wallet'], client: chainClient(config, chainId), contracts: { AccessGrants: contracts.AccessGrants, OrganizationRegistry: contracts.OrganizationRegistry } };
}

/** Whether `account` holds ACCREDITOR_ROLE on the OrganizationRegistry (read on chain). */
export async function isAccreditor(client: PublicClient, registry: Address, account: Address): Promise<boolean> {
  const role = await client.readContract({ address: registry, abi: organizationRegistryAbi, functionName: 'ACCREDITOR_ROLE' });
  return client.readContract({ address: registry, abi: organizationRegistryAbi, functionName: 'hasRole', args: [role, account] });
}

const big = z.union([z.string(), z.number()]).transform((v) => BigInt(v));

const organizationsSchema = z.object({
  organizations: z.array(
    z.object({ id: z.string(), kind: z.coerce.number(), accredited: z.boolean(), accreditedUntil: big, suspensionReasonHash: z.string(), registeredAtTimestamp: big }),
  ),
});
export type IndexedOrganization = z.infer<typeof organizationsSchema>['organizations'][number];

/** Registered organisations, newest first, from the index (through the web server's /graphql). */
export async function fetchOrganizations(url = '/graphql'): Promise<IndexedOrganization[]> {
  const data = await graphqlRequest<unknown>(
    url,
    `query Organizations { organizations(first: 200, orderBy: registeredAtTimestamp, orderDirection: desc) { id kind accredited accreditedUntil suspensionReasonHash registeredAtTimestamp } }`,
  );
  return organizationsSchema.parse(data).organizations;
}

const requestsSchema = z.object({
  accessRequests: z.array(
    z.object({
      requestId: big,
      patient: z.string(),
      categories: z.coerce.number(),
      purpose: z.coerce.number(),
      duration: big,
      status: z.string(),
      approvedCategories: z.coerce.number(),
      expiresAt: big,
      createdAtTimestamp: big,
    }),
  ),
});
export type IndexedRequest = z.infer<typeof requestsSchema>['accessRequests'][number];

/** The requests `requester` made, newest first, from the index. */
export async function fetchRequestsBy(requester: Address, url = '/graphql'): Promise<IndexedRequest[]> {
  const data = await graphqlRequest<unknown>(
    url,
    `query MyRequests($requester: Bytes!) { accessRequests(first: 200, orderBy: requestId, orderDirection: desc, where: { requester: $requester }) { requestId patient categories purpose duration status approvedCategories expiresAt createdAtTimestamp } }`,
    { requester: requester.toLowerCase() },
  );
  return requestsSchema.parse(data).accessRequests;
}
