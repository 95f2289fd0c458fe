/**
 * What a requester (a clinician's organisation) may see of a patient's record list: the current
 * versions' ids, versions, categories and resource types, never content (there is none here to
 * give: the vault holds ciphertext). Only in the categories the requester asked this patient for
 * in any of its requests (from the index), or that are live for it now (grant or break-glass, read
 * on chain with `liveCategories`). Reading a record still needs k gateways, which check the chain
 * again per record; so a listed record outside the grant is listed and refused in words, which is
 * what a clinician needs to understand what was and was not shared (docs/decisions/016).
 */
import type { Address, PublicClient } from 'viem';
import { getAddress, isAddress } from 'viem';
import { z } from 'zod';
import { accessGrantsAbi } from '@consentry/sdk/abi/generated';
import { categoriesOf } from '@consentry/sdk/access/actions';
import { publicClientFor } from '@consentry/sdk/clients';
import { readDeployment } from '@consentry/sdk/deployment';
import { graphqlRequest } from '@consentry/sdk/graphql';
import type { Category } from '@consentry/sdk/records/categories';
import type { Vault } from '@consentry/workers/src/records/vault.ts';
import { serverConfig } from './config.server.ts';
import { recordStores } from './records.server.ts';
import { ApiError } from './session.server.ts';

/** One record as a requester sees it listed: no content, no key, no CID. */
export interface ListedRecord {
  recordId: string;
  version: number;
  category: Category;
  resourceType: string;
}

export interface RequesterRecords {
  patient: Address;
  /** Categories the requester asked for in any request to this patient. */
  asked: Category[];
  /** Categories a release may cover right now (grant and break-glass, less the patient's policy). */
  live: Category[];
  records: ListedRecord[];
}

export interface ClinicalDeps {
  vault: Vault;
  client: PublicClient;
  accessGrants: Address;
  /** The category bitmask `requester` asked `patient` for, over all its requests (0 if none). */
  askedMask(requester: Address, patient: Address): Promise<number>;
}

export const REQUESTS_BY_PAIR_QUERY = /* GraphQL */ `
  query RequestsByPair($patient: Bytes!, $requester: Bytes!) {
    accessRequests(first: 1000, where: { patient: $patient, requester: $requester }) {
      categories
    }
  }
`;
const pairSchema = z.object({ accessRequests: z.array(z.object({ categories: z.coerce.number().int().nonnegative() })) });

/** The asked-for categories of a requester, from the index (embedded indexer or The Graph). */
export async function askedMaskFromIndex(graphqlUrl: string, requester: Address, patient: Address): Promise<number> {
  const data = await graphqlRequest<unknown>(graphqlUrl, REQUESTS_BY_PAIR_QUERY, { patient: patient.toLowerCase(), requester: requester.toLowerCase() });
  return pairSchema.parse(data).accessRequests.reduce((m, r) => m | r.categories, 0);
}

/** Parses the patient address of the URL, or a 400 in words. */
export function patientParam(value: string | undefined): Address {
  if (!value || !isAddress(value, { strict: false })) throw new ApiError(400, 'BAD_PATIENT', 'The patient must be an address (0x followed by 40 hex digits)');
  return getAddress(value);
}

/** The patient's current record versions in the categories `requester` asked for or holds live. */
export async function recordsForRequester(deps: ClinicalDeps, requester: Address, patient: Address): Promise<RequesterRecords> {
  const [asked, live] = await Promise.all([
    deps.askedMask(requester, patient),
    deps.client.readContract({ address: deps.accessGrants, abi: accessGrantsAbi, functionName: 'liveCategories', args: [patient, requester] }),
  ]);
  const visible = asked | Number(live);
  if (visible === 0) {
    throw new ApiError(403, 'NOT_A_REQUESTER', 'You have not asked this patient for access and nothing of theirs is shared with you, so their record list is not shown');
  }
  const allowed = new Set<string>(categoriesOf(visible));
  const [versions, erasures] = await Promise.all([deps.vault.versions(patient), deps.vault.erasures(patient)]);
  const latest = new Map<string, (typeof versions)[number]>();
  for (const v of versions) if ((latest.get(v.recordId)?.version ?? 0) < v.version) latest.set(v.recordId, v);
  const records = [...latest.values()]
    .filter((v) => !erasures.has(v.recordId) && allowed.has(v.category))
    .map((v) => ({ recordId: v.recordId, version: v.version, category: v.category as Category, resourceType: v.resourceType }))
    .sort((a, b) => a.category.localeCompare(b.category) || a.resourceType.localeCompare(b.resourceType) || a.recordId.localeCompare(b.recordId));
  return { patient, asked: categoriesOf(asked), live: categoriesOf(Number(live)), records };
}

let deps: Promise<ClinicalDeps> | undefined;
/** The server's dependencies, from its configuration (the deployment is read once per process). */
export function clinicalDeps(): Promise<ClinicalDeps> {
  deps ??= (async () => {
    const { config } = serverConfig();
    const accessGrants = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR).contracts.AccessGrants?.address;
    if (!accessGrants) throw new ApiError(503, 'NO_ACCESS_CONTRACTS', 'This deployment has no AccessGrants contract, so clinical sharing is not available');
    const { vault } = await recordStores();
    return {
      vault,
      client: publicClientFor(config.RPC_URL, config.CHAIN_ID) as PublicClient,
      accessGrants,
      askedMask: (requester: Address, patient: Address) => askedMaskFromIndex(config.graphqlUrl, requester, patient),
    };
  })().catch((err: unknown) => {
    deps = undefined;
    throw err;
  });
  return deps;
}
