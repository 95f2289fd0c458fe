/**
 * The studies a patient may join, for the /eligibility page: each from StudyRegistry (its metadata
 * and criteria hashes), with its public description read from the blob store under the metadata
 * hash and checked twice: the bytes against the on-chain metadataHash, and the criteria they state
 * against the on-chain criteriaHash (so the criteria shown are the ones a proof must meet); and its
 * protocol and consent text, read under their on-chain hashes and checked against them (the zero
 * hash: the study registered none). A consent text the chain names but this server cannot show
 * (missing or altered) makes the study one that cannot be joined here: nobody should consent to a
 * text they cannot read. Nothing
 * here is about a patient: which studies the patient joined is computed in the browser, from
 * addresses only the patient can derive.
 */
import type { Address, Hex, PublicClient } from 'viem';
import { studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor } from '@consentry/sdk/clients';
import { NO_STUDY_DOCUMENT, readStudyDocument } from '@consentry/sdk/research/study-documents';
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
  /** SHA-256 of the protocol's UTF-8 text; the zero hash when the study registered none. */
  protocolHash: Hex;
  /** SHA-256 of the consent text's UTF-8 text; the zero hash when the study registered none. */
  consentHash: Hex;
  /** The protocol, checked against protocolHash; null when there is none or it cannot be used (see `documentProblem`). */
  protocolText: string | null;
  /** The consent text (what enrolling signs), checked against consentHash; null when there is none or it cannot be used. */
  consentText: string | null;
  /** Why the protocol or the consent text the chain names cannot be shown, in words; null when both can (or there are none). */
  documentProblem: string | null;
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

type Documents = Pick<StudyView, 'protocolText' | 'consentText' | 'documentProblem'>;

/** A document under its on-chain hash, or null with the reason in words (null and no reason for the zero hash). */
async function readDocument(store: Pick<BlobStore, 'get'>, hash: Hex, what: string): Promise<{ text: string | null; problem: string | null }> {
  if (hash.toLowerCase() === NO_STUDY_DOCUMENT) return { text: null, problem: null };
  try {
    return { text: await readStudyDocument(store, hash), problem: null };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'STUDY_DOCUMENT_MISSING') return { text: null, problem: `Its ${what} is not in this server's store` };
    if (code === 'STUDY_DOCUMENT_ALTERED') return { text: null, problem: `Its ${what} in this server's store does not match the hash on chain: it was altered` };
    return { text: null, problem: `Its ${what} cannot be used: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The protocol and the consent text, and (apart) why the consent text the chain names cannot be shown. */
async function documents(store: Pick<BlobStore, 'get'>, s: { protocolHash: Hex; consentHash: Hex }): Promise<Documents & { consentProblem: string | null }> {
  const [protocol, consent] = await Promise.all([readDocument(store, s.protocolHash, 'protocol'), readDocument(store, s.consentHash, 'consent text')]);
  const problems = [protocol.problem, consent.problem].filter((p): p is string => p !== null);
  return { protocolText: protocol.text, consentText: consent.text, documentProblem: problems.length > 0 ? problems.join('; ') : null, consentProblem: consent.problem };
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
            Promise.all([describe(store, s), documents(store, s)]).then(([d, { consentProblem, ...docs }]) => ({
              id: s.studyId.toString(),
              researcher: s.researcher,
              status: s.status,
              createdAt: Number(s.createdAt),
              participantCount: s.participantCount,
              metadataHash: s.metadataHash,
              criteriaHash: s.criteriaHash.toString(),
              protocolHash: s.protocolHash,
              consentHash: s.consentHash,
              ...docs,
              ...d,
              // The consent text is what enrolling signs: a study whose text cannot be shown is not joined here.
              problem: d.problem ?? (consentProblem ? `${consentProblem}, so you cannot read what you would consent to` : null),
            })),
          ]
        : [],
    ),
  );
}
