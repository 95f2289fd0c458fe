// A real gasless enrollment: on anvil with every contract deployed by contracts/script/deploy.ts,
// an IRB-approved study, an accredited issuer's credential and a Groth16 proof made by the sdk for
// a fresh per-study address that never holds ether. The address signs StudyRegistry.enroll as a
// ForwardRequest; the relayer (its default allow-list, read from the deployment) sends it through
// the Forwarder. The participant on chain is the study address, the relayer is neither enrolled nor
// minted anything; a replay and a second enrollment with the same proof are refused in words before
// sending; the participant then revokes its consent through the relayer too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, keccak256, parseEventLogs, toHex, zeroHash, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { deployContracts, type DeployResult } from '../../../contracts/script/deploy.ts';
import { consentTokenAbi, organizationRegistryAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { relay, RelayRefusedError, signForwardRequest } from '@consentry/sdk/research/forwarder';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { nodeArtifacts } from '@consentry/sdk/zk/artifacts.node';
import { addIssuer, approveStudy, createStudy, eligibilityProofArgs, isEnrolled, readConsent, readIssuerLeaves, type ZkContext, type ZkContracts } from '@consentry/sdk/zk/chain';
import { issuerKeyFromSecret, signCredential } from '@consentry/sdk/zk/credential';
import { identityCommitment, identitySecretFromSeed } from '@consentry/sdk/zk/identity';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { proveEligibility } from '@consentry/sdk/zk/prove';
import type { Criteria } from '@consentry/sdk/zk/types';
import { defaultAllowList } from './main.ts';
import { createRelayer } from './relayer.ts';
import { startRelayerServer, type RelayerServer } from './server.ts';

const CHAIN = 31337;
const DAY = 86_400;
const enc = (s: string) => new TextEncoder().encode(s);
const [admin, researcher, relayerAccount, irb] = [0, 1, 5, 8].map((i) => ANVIL_ACCOUNTS[i]!) as [
  (typeof ANVIL_ACCOUNTS)[number], (typeof ANVIL_ACCOUNTS)[number], (typeof ANVIL_ACCOUNTS)[number], (typeof ANVIL_ACCOUNTS)[number],
];
const CRITERIA: Criteria = { version: 1, age: { min: 18, max: 75 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } };
const EXTRACT: Hex = keccak256(toHex('sealed extract of a relayed participant'));

let anvil: AnvilInstance;
let dir: string;
let deployment: DeployResult;
let contracts: ZkContracts;
let server: RelayerServer;
let studyId: bigint;
const client = () => publicClientFor(anvil.rpcUrl, CHAIN);
const ctx = (who: { privateKey: Hex }): ZkContext => ({ wallet: walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey), client: client(), contracts });
const chainTime = async () => Number((await client().getBlock({ blockTag: 'latest' })).timestamp);
const issuer = issuerKeyFromSecret(enc('relayer-test-issuer'));
const secret = identitySecretFromSeed(enc('relayer-test-patient'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-relayer-enroll-'));
  anvil = await startAnvil();
  deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: admin.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = deployment.contracts;
  contracts = { IssuerRegistry: c.IssuerRegistry!.address, StudyRegistry: c.StudyRegistry!.address, EligibilityVerifier: c.EligibilityVerifier!.address, ConsentToken: c.ConsentToken!.address };
  // An accredited IRB, an accredited issuer, and an approved study.
  const orgs = c.OrganizationRegistry!.address;
  const irbWallet = walletClientFor(anvil.rpcUrl, CHAIN, irb.privateKey);
  const adminWallet = walletClientFor(anvil.rpcUrl, CHAIN, admin.privateKey);
  for (const hash of [
    await irbWallet.writeContract({ address: orgs, abi: organizationRegistryAbi, functionName: 'register', args: [4, keccak256(toHex('Relayer Test IRB')), zeroHash], chain: null }),
    await adminWallet.writeContract({ address: orgs, abi: organizationRegistryAbi, functionName: 'accredit', args: [irb.address, BigInt((await chainTime()) + 365 * DAY)], chain: null }),
  ]) {
    expect((await client().waitForTransactionReceipt({ hash })).status).toBe('success');
  }
  await addIssuer(ctx(admin), issuer.publicKey);
  studyId = (await createStudy(ctx(researcher), { metadataHash: keccak256(toHex('relayed study')), criteriaHash: compileCriteria(CRITERIA).criteriaHash, consentDuration: 30n * BigInt(DAY) })).studyId;
  await approveStudy(ctx(irb), studyId, keccak256(toHex('IRB minutes: approved')));
  const relayer = createRelayer({ rpcUrl: anvil.rpcUrl, chainId: CHAIN, privateKey: relayerAccount.privateKey, forwarder: c.Forwarder!.address, allow: defaultAllowList(c) });
  server = await startRelayerServer(relayer);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gasless enrollment through the relayer (real contracts, real proof)', () => {
  it('enrolls a fresh study address that holds no ether, as itself; refuses a replay and a second enrollment; revokes gaslessly', async () => {
    const study = privateKeyToAccount(generatePrivateKey());
    const now = await chainTime();
    const credential = signCredential(issuer, {
      attributes: { birthDate: '1968-03-02', sex: 'male', smoker: 'former', conditions: ['E11.9'], measures: { hba1c: 7.1, bmi: 31 } },
      identityCommitment: identityCommitment(secret),
      issuedAt: now - 10 * DAY,
      expiresAt: now + 365 * DAY,
    });
    const { leaves } = await readIssuerLeaves(client(), contracts, { fromBlock: BigInt(deployment.startBlock) });
    const bundle = await proveEligibility({ credential, secret, criteria: CRITERIA, studyId, recipient: study.address, issuerLeaves: leaves, time: now, artifacts: nodeArtifacts() });
    const forwarder = { client: client(), address: deployment.contracts.Forwarder!.address };
    const enroll = encodeFunctionData({ abi: studyRegistryAbi, functionName: 'enroll', args: [studyId, eligibilityProofArgs(bundle), EXTRACT] });
    const deadline = Math.floor(Date.now() / 1000) + 600;

    const request = await signForwardRequest(study, forwarder, { to: contracts.StudyRegistry, data: enroll, gas: 1_000_000n, deadline });
    const { hash, status } = await relay(server.url, request);
    expect(status).toBe('success');
    const receipt = await client().getTransactionReceipt({ hash });
    expect(receipt.from).toBe(relayerAccount.address.toLowerCase());
    const [enrolled] = parseEventLogs({ abi: studyRegistryAbi, logs: receipt.logs, eventName: 'Enrolled' });
    expect(enrolled!.args).toMatchObject({ studyId, participant: study.address, extractHash: EXTRACT });
    expect(await isEnrolled(client(), contracts, studyId, study.address)).toBe(true);
    expect(await isEnrolled(client(), contracts, studyId, relayerAccount.address as Address)).toBe(false);
    expect(await readConsent(client(), contracts, study.address, studyId)).toMatchObject({ held: true, active: true, revoked: false });
    expect(await client().readContract({ address: contracts.ConsentToken!, abi: consentTokenAbi, functionName: 'balanceOf', args: [relayerAccount.address, studyId] })).toBe(0n);
    expect(await client().getBalance({ address: study.address })).toBe(0n);
    // ~572k gas (the Groth16 check, the consent mint, the market hook, the forwarder): within the 1M signed for.
    expect(receipt.gasUsed).toBeLessThan(1_000_000n);

    const replay = (await relay(server.url, request).catch((e: unknown) => e)) as RelayRefusedError;
    expect(replay).toMatchObject({ code: 'NONCE_USED', status: 409 });
    // The same proof signed again (a new nonce): refused before sending, in words.
    const again = await signForwardRequest(study, forwarder, { to: contracts.StudyRegistry, data: enroll, gas: 1_000_000n, deadline });
    const twice = (await relay(server.url, again).catch((e: unknown) => e)) as RelayRefusedError;
    expect(twice).toMatchObject({ code: 'WOULD_REVERT', status: 422 });
    expect(twice.message).toMatch(/^Not relayed: the call would fail\. This (address|person) is already enrolled/);

    const revoke = encodeFunctionData({ abi: consentTokenAbi, functionName: 'revoke', args: [studyId] });
    const revoked = await relay(server.url, await signForwardRequest(study, forwarder, { to: contracts.ConsentToken!, data: revoke, gas: 300_000n, deadline }));
    expect(revoked.status).toBe('success');
    expect(await readConsent(client(), contracts, study.address, studyId)).toMatchObject({ held: false, active: false, revoked: true });
    expect(await client().getBalance({ address: study.address })).toBe(0n);
  }, 120_000);
});
