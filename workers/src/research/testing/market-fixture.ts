// Test helper for the research marketplace on the real stack: the access fixture's chain, deployed
// contracts, vault, blob store and three release gateways (2 of 3), plus an accredited IRB, an
// accredited credential issuer, the gasless relayer, and participants who enroll as the web app
// does: a real Groth16 proof for their per-study address, a Safe Harbor extract sealed to the
// committee and uploaded (the same checks as POST /api/extracts), then a relayed enroll.
import { encodeFunctionData, keccak256, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { consentTokenAbi, organizationRegistryAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { readCommittee } from '@consentry/sdk/access/release';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { CATEGORIES, categoryMask } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { toBase64 } from '@consentry/sdk/records/versions';
import { buildExtract } from '@consentry/sdk/research/extract';
import { relay, signForwardRequest } from '@consentry/sdk/research/forwarder';
import type { MarketContracts } from '@consentry/sdk/research/market';
import type { ReleaseContracts } from '@consentry/sdk/research/purchase-release';
import { sealExtract, type SealedExtract } from '@consentry/sdk/research/seal-extract';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { nodeArtifacts } from '@consentry/sdk/zk/artifacts.node';
import { addIssuer, approveStudy, createStudy, eligibilityProofArgs, readIssuerLeaves, type StudyParamsInput, type ZkContracts } from '@consentry/sdk/zk/chain';
import { issuerKeyFromSecret, signCredential } from '@consentry/sdk/zk/credential';
import { identityCommitment, identitySecretFromSeed } from '@consentry/sdk/zk/identity';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { proveEligibility } from '@consentry/sdk/zk/prove';
import { studyAccount } from '@consentry/sdk/zk/study-account';
import type { Criteria } from '@consentry/sdk/zk/types';
import { CHAIN, DAY, startAccessFixture, type AccessFixture } from '../../gateway/testing/fixture.ts';
import { defaultAllowList } from '../../relayer/main.ts';
import { createRelayer } from '../../relayer/relayer.ts';
import { startRelayerServer, type RelayerServer } from '../../relayer/server.ts';
import { storeExtractFromChain } from '../extracts.ts';

export { CHAIN, DAY };
const IRB_KIND = 4;
const enc = (s: string) => new TextEncoder().encode(s);
export const MARKET_CRITERIA: Criteria = { version: 1, age: { min: 18, max: 99 } };
export const ALL_CATEGORIES = BigInt(categoryMask([...CATEGORIES]));

/** A participant: a main wallet that never appears on chain, an identity secret, its per-study address. */
export interface Participant {
  main: Address;
  secret: bigint;
  study: ReturnType<typeof studyAccount>;
  resources: FhirResource[];
}

export interface MarketFixture {
  access: AccessFixture;
  client: ReturnType<typeof publicClientFor>;
  contracts: MarketContracts & ReleaseContracts & ZkContracts & { ReleaseCommittee: Address; Forwarder: Address };
  fromBlock: bigint;
  researcher: { privateKey: Hex; address: Address };
  relayer: RelayerServer;
  ctx(who: { privateKey: Hex }): { wallet: ReturnType<typeof walletClientFor>; client: ReturnType<typeof publicClientFor>; contracts: MarketFixture['contracts'] };
  chainTime(): Promise<number>;
  /** A study by the researcher (k, price, categories as given), approved by the IRB. */
  approvedStudy(terms?: Partial<StudyParamsInput>): Promise<bigint>;
  /** Participant `i` of a seed, with synthetic records. */
  participant(seed: string, i: number, studyId: bigint): Participant;
  /**
   * Seals and uploads the participant's extract, proves, and enrolls through the relayer; the extract.
   * With `upload: false` the extract's hash is registered but nothing is uploaded (a broken client).
   */
  enroll(p: Participant, studyId: bigint, opts?: { upload?: boolean }): Promise<SealedExtract>;
  /** The participant revokes its consent to the study, gaslessly (signed by its study address, sent by the relayer). */
  revoke(p: Participant, studyId: bigint): Promise<Hex>;
  advance(seconds: number): Promise<void>;
  close(): Promise<void>;
}

export async function startMarketFixture(): Promise<MarketFixture> {
  const [seedResources] = synthesizeBundles({ patients: 1, seed: 'market-fixture' });
  const access = await startAccessFixture(seedResources!.entry.map((e) => e.resource).slice(0, 4));
  const c = access.deployment.contracts as Required<typeof access.deployment.contracts>;
  const client = publicClientFor(access.anvil.rpcUrl, CHAIN);
  const deployer = ANVIL_ACCOUNTS[0]!;
  const researcher = ANVIL_ACCOUNTS[2]!;
  const irb = ANVIL_ACCOUNTS[3]!;
  const contracts = {
    StudyMarket: c.StudyMarket.address,
    StudyRegistry: c.StudyRegistry.address,
    TestToken: c.TestToken.address,
    ConsentToken: c.ConsentToken.address,
    Forwarder: c.Forwarder.address,
    IssuerRegistry: c.IssuerRegistry.address,
    EligibilityVerifier: c.EligibilityVerifier.address,
    ReleaseCommittee: c.ReleaseCommittee.address,
  };
  const fromBlock = BigInt(access.deployment.startBlock);
  const ctx = (who: { privateKey: Hex }) => ({ wallet: walletClientFor(access.anvil.rpcUrl, CHAIN, who.privateKey), client, contracts });
  const chainTime = async () => Number((await client.getBlock()).timestamp);

  await access.send(irb.privateKey, c.OrganizationRegistry.address, organizationRegistryAbi, 'register', [IRB_KIND, keccak256(toHex('market fixture irb')), keccak256(toHex('metadata'))]);
  await access.send(deployer.privateKey, c.OrganizationRegistry.address, organizationRegistryAbi, 'accredit', [irb.address, BigInt((await chainTime()) + 365 * DAY)]);
  const issuer = issuerKeyFromSecret(enc('market-fixture-issuer'));
  await addIssuer(ctx(deployer), issuer.publicKey);
  const leaves = (await readIssuerLeaves(client, contracts, { fromBlock })).leaves;
  const relayer = await startRelayerServer(
    createRelayer({ rpcUrl: access.anvil.rpcUrl, chainId: CHAIN, privateKey: ANVIL_ACCOUNTS[7]!.privateKey, forwarder: contracts.Forwarder, allow: defaultAllowList(c) }),
  );

  let studies = 0;
  const approvedStudy = async (terms: Partial<StudyParamsInput> = {}) => {
    const created = await createStudy(ctx(researcher), {
      metadataHash: keccak256(toHex(`market fixture study ${++studies}`)),
      criteriaHash: compileCriteria(MARKET_CRITERIA).criteriaHash,
      categories: ALL_CATEGORIES,
      paymentToken: contracts.TestToken,
      pricePerParticipant: 5_000_000n,
      consentDuration: BigInt(180 * DAY),
      minCohort: 3,
      maxParticipants: 100,
      ...terms,
    });
    await approveStudy(ctx(irb), created.studyId, keccak256(toHex('IRB minutes: approved')));
    return created.studyId;
  };

  const bundles = new Map<string, ReturnType<typeof synthesizeBundles>>();
  const participant = (seed: string, i: number, studyId: bigint): Participant => {
    if (!bundles.has(seed)) bundles.set(seed, synthesizeBundles({ patients: 8, seed }));
    const secret = identitySecretFromSeed(enc(`${seed}-patient-${i}`));
    return {
      main: privateKeyToAccount(keccak256(toHex(`${seed} patient wallet ${i}`))).address,
      secret,
      study: studyAccount(secret, studyId),
      resources: bundles.get(seed)![i]!.entry.map((e) => e.resource),
    };
  };

  const enroll = async (p: Participant, studyId: bigint, { upload = true } = {}) => {
    const committee = await readCommittee(client, contracts.ReleaseCommittee);
    const sealed = await sealExtract(buildExtract(p.resources, { categories: ALL_CATEGORIES }), { committee, studyId });
    if (upload)
      await storeExtractFromChain(
      { vault: access.vault, blobs: access.blobs, client, contracts },
      { studyId: studyId.toString(), ciphertext: toBase64(sealed.ciphertext), shares: sealed.shares.map((s) => ({ member: s.memberId, sealedShare: toBase64(s.sealed) })) },
    );
    const time = await chainTime();
    const credential = signCredential(issuer, {
      attributes: { birthDate: '1961-05-01', sex: 'female', smoker: 'never', conditions: [], measures: {} },
      identityCommitment: identityCommitment(p.secret),
      issuedAt: time - DAY,
      expiresAt: time + 365 * DAY,
    });
    const proof = await proveEligibility({ credential, secret: p.secret, criteria: MARKET_CRITERIA, studyId, recipient: p.study.address, issuerLeaves: leaves, time, artifacts: nodeArtifacts() });
    const data = encodeFunctionData({ abi: studyRegistryAbi, functionName: 'enroll', args: [studyId, eligibilityProofArgs(proof), sealed.extractHash] });
    const request = await signForwardRequest(p.study, { client, address: contracts.Forwarder }, { to: contracts.StudyRegistry, data, gas: 1_000_000n, deadline: time + 600 });
    const sent = await relay(relayer.url, request);
    if (sent.status !== 'success') throw new Error(`relayed enrollment of ${p.study.address} failed: ${JSON.stringify(sent)}`);
    return sealed;
  };

  const revoke = async (p: Participant, studyId: bigint) => {
    const request = await signForwardRequest(p.study, { client, address: contracts.Forwarder }, {
      to: contracts.ConsentToken,
      data: encodeFunctionData({ abi: consentTokenAbi, functionName: 'revoke', args: [studyId] }),
      gas: 300_000n,
      deadline: (await chainTime()) + 600,
    });
    const sent = await relay(relayer.url, request);
    if (sent.status !== 'success') throw new Error(`relayed revocation of ${p.study.address} failed: ${JSON.stringify(sent)}`);
    return sent.hash;
  };

  const advance = async (seconds: number) => {
    await client.request({ method: 'evm_increaseTime' as never, params: [seconds] as never });
    await client.request({ method: 'evm_mine' as never, params: [] as never });
  };

  return {
    access,
    client,
    contracts,
    fromBlock,
    researcher,
    relayer,
    ctx,
    chainTime,
    approvedStudy,
    participant,
    enroll,
    revoke,
    advance,
    async close() {
      await relayer.close().catch(() => undefined);
      await access.close();
    },
  };
}
