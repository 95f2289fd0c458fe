// The studies the /eligibility page lists, read from a real StudyRegistry on anvil with their
// descriptions, protocols and consent texts from a real filesystem blob store: a good study with its
// criteria in words and its two texts; a study whose description is not stored; one whose
// description states other criteria than its on-chain hash; one whose consent text is not stored
// (it cannot be joined); one whose protocol was altered on disk (shown without it); the newest first.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zeroHash, type PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { putStudyDocument, studyDocumentHash } from '@consentry/sdk/research/study-documents';
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
const protocol = 'STUDY PROTOCOL: Diabetes study\n\n1. Design\nRetrospective, observational.\n';
const consent = 'AUTHORIZATION TO USE AND DISCLOSE HEALTH INFORMATION FOR RESEARCH\n\nSignature: ________ Date: ________\n';

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
    // 1: stored and matching, with its protocol and consent text.
    const good = await putStudyMetadata(store, diabetes);
    const criteriaHash = compileCriteria(diabetes.criteria).criteriaHash;
    const [protocolDoc, consentDoc] = [await putStudyDocument(store, protocol), await putStudyDocument(store, consent)];
    await createStudy(ctx, { metadataHash: good.metadataHash, criteriaHash, protocolHash: protocolDoc.hash, consentHash: consentDoc.hash });
    // 2: the description was never stored here.
    await createStudy(ctx, { metadataHash: studyMetadataHash(smokers), criteriaHash: compileCriteria(smokers.criteria).criteriaHash });
    // 3: the stored description states other criteria than the ones registered.
    const other = await putStudyMetadata(store, { ...smokers, title: 'Mislabelled study' });
    await createStudy(ctx, { metadataHash: other.metadataHash, criteriaHash });
    // 4: its consent text was never stored here.
    const unstoredConsent = studyDocumentHash(`${consent}(another version)\n`);
    await createStudy(ctx, { metadataHash: good.metadataHash, criteriaHash, protocolHash: protocolDoc.hash, consentHash: unstoredConsent });
    // 5: its protocol was altered in the store after it was registered.
    const altered = await putStudyDocument(store, 'STUDY PROTOCOL: to be altered\n');
    await createStudy(ctx, { metadataHash: good.metadataHash, criteriaHash, protocolHash: altered.hash, consentHash: consentDoc.hash });
    const path = join(dir, 'blobs', altered.cid.slice(-2), altered.cid);
    writeFileSync(path, readFileSync(path).map((b, i) => (i === 0 ? b ^ 1 : b)));

    const studies = await listStudies({ client: ctx.client, studyRegistry: ctx.contracts.StudyRegistry, store });
    expect(studies.map((s) => s.id)).toEqual(['5', '4', '3', '2', '1']);
    const [alteredProtocol, missingConsent, mislabelled, missing, ok] = studies;
    expect(ok).toMatchObject({
      id: '1',
      researcher: ANVIL_ACCOUNTS[3]!.address,
      participantCount: 0,
      metadataHash: good.metadataHash,
      criteriaHash: criteriaHash.toString(),
      metadata: diabetes,
      protocolHash: protocolDoc.hash,
      consentHash: consentDoc.hash,
      protocolText: protocol,
      consentText: consent,
      documentProblem: null,
      problem: null,
    });
    expect(ok!.criteriaInWords.map((c) => c.text)).toEqual(['Aged 18 to 90', 'HbA1c at least 6.5 %', 'Diagnosed with E11 (any code starting E11)']);
    // No documents registered (the zero hashes): none shown, and none missing.
    expect(missing).toMatchObject({
      metadata: null,
      criteriaInWords: [],
      protocolHash: zeroHash,
      consentHash: zeroHash,
      protocolText: null,
      consentText: null,
      documentProblem: null,
      problem: "Its description is not in this server's store, so its criteria cannot be shown",
    });
    expect(missingConsent).toMatchObject({
      metadata: diabetes,
      consentHash: unstoredConsent,
      protocolText: protocol,
      consentText: null,
      documentProblem: "Its consent text is not in this server's store",
      problem: "Its consent text is not in this server's store, so you cannot read what you would consent to",
    });
    expect(alteredProtocol).toMatchObject({
      metadata: diabetes,
      protocolText: null,
      consentText: consent,
      documentProblem: "Its protocol in this server's store does not match the hash on chain: it was altered",
      problem: null,
    });
    expect(mislabelled).toMatchObject({
      metadata: { title: 'Mislabelled study' },
      problem: 'The criteria in its description are not the ones registered on chain, so no proof could match them',
    });
    // What reaches the browser is JSON.
    expect(JSON.parse(JSON.stringify(studies))).toEqual(studies);
  });
});
