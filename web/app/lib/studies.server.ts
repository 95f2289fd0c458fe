/**
 * The studies a patient may join, for the /eligibility page: each from StudyRegistry (its metadata
 * and criteria hashes), with its public description read from the blob store under the metadata
 * hash and checked twice: the bytes against the on-chain metadataHash, and the criteria they state
 * against the on-chain criteriaHash (so the criteria shown are the ones a proof must meet). Nothing
 * here is about a patient: which studies the patient joined is computed in the browser, from
 * addresses only the patient can derive.
 */
import type { Address, Hex, PublicClient } from 'viem';
import { studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor } from '@consentry/sdk/clients';
import { readStudy, type StudyStatus } from '@consentry/sdk/zk/chain';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { describeCriteria, readStudyMetadata, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { serverConfig } from './config.server.ts';

export interface StudyView {
  /** Decimal. */
  id: string;
  researcher: Address;
  /** Where it stands; only Approved studies enroll (docs/decisions/022-studies-and-consent-tokens.md). */
  status: StudyStatus;
  createdAt: number;
  participantCount: number;
  metadataHash: Hex;
  /** Decimal. */
  criteriaHash: string;
  /** The description, or null when it cannot be used (see `problem`). */
  metadata: StudyMetadata | null;
  criteriaInWords: Array<{ criterion: string; text: string }>;
  /** Why this study cannot be joined from this page, in words; null when it can. */
  problem: string | null;
}

/** How many studies the page lists (the newest). */
export const MAX_LISTED_STUDIES = 50;

let blobs: Promise<BlobStore> | undefined;
function blobStore(): Promise<BlobStore> {
  blobs ??= blobStoreFromEnv({ ...process.env, DATA_DIR: serverConfig().config.DATA_DIR }).catch((err: unknown) => {
    blobs = undefined;
    throw err;
  });
  return blobs;
}

async function describe(store: Pick<BlobStore, 'get'>, s: { metadataHash: Hex; criteriaHash: bigint }): Promise<Pick<StudyView, 'metadata' | 'criteriaInWords' | 'problem'>> {
  let metadata: StudyMetadata;
  try {
    metadata = await readStudyMetadata(store, s.metadataHash);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const problem =
      code === 'BLOB_NOT_FOUND'
        ? 'Its description is not in this server\'s store, so its criteria cannot be shown'
        : `Its description cannot be used: ${err instanceof Error ? err.message : String(err)}`;
    return { metadata: null, criteriaInWords: [], problem };
  }
  const criteriaInWords = describeCriteria(metadata.criteria);
  let compiled: bigint | null = null;
  try {
    compiled = compileCriteria(metadata.criteria).criteriaHash;
  } catch (err) {
    return { metadata, criteriaInWords, problem: `Its criteria cannot be proven: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (compiled !== s.criteriaHash) {
    return { metadata, criteriaInWords, problem: 'The criteria in its description are not the ones registered on chain, so no proof could match them' };
  }
  return { metadata, criteriaInWords, problem: null };
}

/** The newest studies first, each described and checked. */
export async function listStudies(opts: { client?: PublicClient; studyRegistry: Address; store?: Pick<BlobStore, 'get'> }): Promise<StudyView[]> {
  const { config } = serverConfig();
  const client = opts.client ?? (publicClientFor(config.RPC_URL, config.CHAIN_ID, { retryCount: 1 }) as PublicClient);
  const store = opts.store ?? (await blobStore());
  const count = await client.readContract({ address: opts.studyRegistry, abi: studyRegistryAbi, functionName: 'studyCount' });
  const ids: bigint[] = [];
  for (let id = count; id >= 1n && ids.length < MAX_LISTED_STUDIES; id--) ids.push(id);
  const studies = await Promise.all(ids.map((id) => readStudy(client, { StudyRegistry: opts.studyRegistry }, id)));
  return Promise.all(
    studies.flatMap((s) =>
      s
        ? [
            describe(store, s).then((d) => ({
              id: s.studyId.toString(),
              researcher: s.researcher,
              status: s.status,
              createdAt: Number(s.createdAt),
              participantCount: s.participantCount,
              metadataHash: s.metadataHash,
              criteriaHash: s.criteriaHash.toString(),
              ...d,
            })),
          ]
        : [],
    ),
  );
}
