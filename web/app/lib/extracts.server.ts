/**
 * POST /api/extracts: a participant's sealed study extract, uploaded before it enrolls
 * (docs/decisions/029-extract-upload-and-committee-release.md). No session: the upload must not tie
 * the extract (whose hash goes on chain with the per-study address) to the signed-in patient. It is
 * checked for what it says of itself against the chain (the committee's current epoch, the study
 * enrolling) by workers/src/research/extracts.ts, and stored in the vault and the blob store, where
 * the committee's gateways find it when a purchase is released.
 */
import { publicClientFor } from '@consentry/sdk/clients';
import { readDeployment } from '@consentry/sdk/deployment';
import { ExtractStoreError, storeExtractFromChain } from '@consentry/workers/src/research/extracts.ts';
import { serverConfig } from './config.server.ts';
import { recordStores } from './records.server.ts';
import { ApiError } from './session.server.ts';

export async function uploadExtract(body: unknown): Promise<{ extractHash: string; cid: string; stored: boolean }> {
  const { config } = serverConfig();
  const c = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR).contracts;
  if (!c.ReleaseCommittee || !c.StudyRegistry) throw new ApiError(503, 'NOT_DEPLOYED', 'The release committee or the study registry is not deployed on this chain');
  const { vault, blobs } = await recordStores();
  try {
    return await storeExtractFromChain(
      { vault, blobs, client: publicClientFor(config.RPC_URL, config.CHAIN_ID), contracts: { ReleaseCommittee: c.ReleaseCommittee.address, StudyRegistry: c.StudyRegistry.address } },
      body,
    );
  } catch (err) {
    if (err instanceof ExtractStoreError) throw new ApiError(err.status, err.code, err.message);
    throw err;
  }
}
