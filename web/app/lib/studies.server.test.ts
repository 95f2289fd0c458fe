// The studies the /eligibility page lists, read from a real StudyRegistry on anvil with their
// descriptions from a real filesystem blob store: a good study with its criteria in words; a study
// whose description is not stored; one whose description states other criteria than its on-chain
// hash; the newest first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { createStudy, type ZkContext } from '@consentry/sdk/zk/chain';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { putStudyMetadata, studyMetadataHash, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { listStudies } from './studies.server.ts';

const dir = mkdtempSync(join(tmpdir(), 'consentry-studies-'));
let anvil: AnvilInstance;
let ctx: ZkContext;
let store: BlobStore;

const diabetes: StudyMetadata = {
  version: 1,
  title: 'Diabetes study',
  summary: 'Synthetic.',
  criteria: { version: 1, age: { min: 18, max: 90 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } },
};
const smokers: StudyMetadata = { version: 1, title: 'Smokers study', summary: '', criteria: { version: 1, smoker: ['current'] } };

beforeAll(async () => {
  anvil = await startAnvil({ chainId: 31337 });
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: 31337, deploymentsDir: join(dir, 'deployments') });
  const c = deployment.contracts;
  ctx = {
    wallet: walletClientFor(anvil.rpcUrl, 31337, ANVIL_ACCOUNTS[3]!.privateKey),
    client: publicClientFor(anvil.rpcUrl, 31337) as PublicClient,
    contracts: { IssuerRegistry: c.IssuerRegistry!.address, StudyRegistry: c.StudyRegistry!.address, EligibilityVerifier: c.EligibilityVerifier!.address },
  };
  store = await createFsBlobStore(join(dir, 'blobs'));
}, 120_000);
afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('listStudies', () => {
  it('lists each study newest first, with its checked description, or the reason it cannot be joined', async () => {
    // 1: stored and matching.
    const good = await putStudyMetadata(store, diabetes);
    await createStudy(ctx, { metadataHash: good.metadataHash, criteriaHash: compileCriteria(diabetes.criteria).criteriaHash });
    // 2: the description was never stored here.
    await createStudy(ctx, { metadataHash: studyMetadataHash(smokers), criteriaHash: compileCriteria(smokers.criteria).criteriaHash });
    // 3: the stored description states other criteria than the ones registered.
    const other = await putStudyMetadata(store, { ...smokers, title: 'Mislabelled study' });
    await createStudy(ctx, { metadataHash: other.metadataHash, criteriaHash: compileCriteria(diabetes.criteria).criteriaHash });

    const studies = await listStudies({ client: ctx.client, studyRegistry: ctx.contracts.StudyRegistry, store });
    expect(studies.map((s) => s.id)).toEqual(['3', '2', '1']);
    const [mislabelled, missing, ok] = studies;
    expect(ok).toMatchObject({
      id: '1',
      researcher: ANVIL_ACCOUNTS[3]!.address,
      participantCount: 0,
      metadataHash: good.metadataHash,
      criteriaHash: compileCriteria(diabetes.criteria).criteriaHash.toString(),
      metadata: diabetes,
      problem: null,
    });
    expect(ok!.criteriaInWords.map((c) => c.text)).toEqual(['Aged 18 to 90', 'HbA1c at least 6.5 %', 'Diagnosed with E11 (any code starting E11)']);
    expect(missing).toMatchObject({ metadata: null, criteriaInWords: [], problem: "Its description is not in this server's store, so its criteria cannot be shown" });
    expect(mislabelled).toMatchObject({
      metadata: { title: 'Mislabelled study' },
      problem: 'The criteria in its description are not the ones registered on chain, so no proof could match them',
    });
    // What reaches the browser is JSON.
    expect(JSON.parse(JSON.stringify(studies))).toEqual(studies);
  });
});
