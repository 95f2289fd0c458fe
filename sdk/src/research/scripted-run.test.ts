// Issue 7's "done when", scripted on a real anvil chain with the deployed contracts, real proofs and
// the real relayer: a study (k = 3, 5 tUSD per participant) is registered and approved by an IRB;
// one patient enrolls and a purchase is refused below k; three more enroll gaslessly from fresh
// per-study addresses with sealed Safe Harbor extracts; a researcher buys; two of the three
// committee members release and confirm; the researcher opens exactly the 4 extracts; one patient
// revokes; a second purchase pays only the 3 others and releases only their extracts; every claim
// adds up to the cent; a purchase nobody confirms is refunded after the deadline. No transaction or
// log of the whole run mentions a patient's main address. Four proofs (~1.5 s each).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { encodeFunctionData, keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { defaultAllowList } from '../../../workers/src/relayer/main.ts';
import { createRelayer } from '../../../workers/src/relayer/relayer.ts';
import { startRelayerServer, type RelayerServer } from '../../../workers/src/relayer/server.ts';
import { consentTokenAbi, organizationRegistryAbi, releaseCommitteeAbi, studyRegistryAbi, testTokenAbi } from '../abi/generated.ts';
import { ActionRefusedError } from '../access/actions.ts';
import { publicClientFor, walletClientFor } from '../clients.ts';
import type { Committee } from '../crypto/shares.ts';
import { CATEGORIES, categoryMask } from '../records/categories.ts';
import { synthesizeBundles } from '../synth/generate.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import { nodeArtifacts } from '../zk/artifacts.node.ts';
import { addIssuer, approveStudy, createStudy, eligibilityProofArgs, readIssuerLeaves, type ZkContracts } from '../zk/chain.ts';
import { issuerKeyFromSecret, signCredential } from '../zk/credential.ts';
import { identityCommitment, identitySecretFromSeed } from '../zk/identity.ts';
import { compileCriteria } from '../zk/layout.ts';
import { proveEligibility } from '../zk/prove.ts';
import { studyAccount } from '../zk/study-account.ts';
import type { Criteria } from '../zk/types.ts';
import { buildExtract } from './extract.ts';
import { relay, signForwardRequest } from './forwarder.ts';
import { claimable, claimRelayed, faucet, purchase, readPurchase, refund, type MarketContracts } from './market.ts';
import { buyerPublicKey, memoryExtractStore, openPurchasedExtracts, releaseAndConfirm, type ReleaseContracts } from './purchase-release.ts';
import { sealExtract } from './seal-extract.ts';

const CHAIN = 31337;
const DAY = 86_400;
const IRB_KIND = 4;
const PRICE = 5_000_000n; // 5 tUSD (6 decimals)
const STUDY = 1n;
const enc = (s: string) => new TextEncoder().encode(s);
const acct = (i: number) => ANVIL_ACCOUNTS[i]!;
const [deployer, researcher, irb, relayerAccount] = [acct(0), acct(1), acct(2), acct(3)];
const memberKeys = [4, 5, 6].map((i) => ({ account: privateKeyToAccount(acct(i).privateKey), secretKey: keccak256(toHex(`scripted run member ${i}`), 'bytes') }));
const CRITERIA: Criteria = { version: 1, age: { min: 18, max: 99 } };
const MASK = BigInt(categoryMask([...CATEGORIES]));

// Four patients: a main wallet (never on chain in this run), an identity secret, the per-study address derived from it.
const patients = [0, 1, 2, 3].map((i) => {
  const secret = identitySecretFromSeed(enc(`scripted-run-patient-${i}`));
  return { main: privateKeyToAccount(keccak256(toHex(`scripted run patient wallet ${i}`))).address, secret, study: studyAccount(secret, STUDY) };
});

let anvil: AnvilInstance;
let dir: string;
let contracts: MarketContracts & ReleaseContracts & ZkContracts;
let forwarder: Address;
let fromBlock: bigint;
let committee: Committee;
let server: RelayerServer;
let leaves: bigint[];
const issuer = issuerKeyFromSecret(enc('scripted-run-issuer'));
const store = memoryExtractStore();
const extractOf = new Map<Address, Hex>();
const bundles = synthesizeBundles({ patients: 4, seed: 'scripted-run' });
const client = () => publicClientFor(anvil.rpcUrl, CHAIN);
const ctx = (who: { privateKey: Hex }) => ({ wallet: walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey), client: client(), contracts });
const chainTime = async () => Number((await client().getBlock()).timestamp);

async function write(who: { privateKey: Hex }, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) {
  const w = walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey);
  const hash = await w.writeContract({ address, abi, functionName, args, gas: 1_000_000n, chain: null } as Parameters<typeof w.writeContract>[0]);
  if ((await client().waitForTransactionReceipt({ hash })).status !== 'success') throw new Error(`${functionName} reverted`);
}

/** A patient enrolls gaslessly: proof for its study address, sealed extract, signed request, relayed. */
async function enrollThroughRelayer(i: number) {
  const p = patients[i]!;
  const time = await chainTime();
  const credential = signCredential(issuer, {
    attributes: { birthDate: `19${50 + i}-05-0${i + 1}`, sex: i % 2 ? 'male' : 'female', smoker: 'never', conditions: [], measures: {} },
    identityCommitment: identityCommitment(p.secret),
    issuedAt: time - DAY,
    expiresAt: time + 365 * DAY,
  });
  const proof = await proveEligibility({ credential, secret: p.secret, criteria: CRITERIA, studyId: STUDY, recipient: p.study.address, issuerLeaves: leaves, time, artifacts: nodeArtifacts() });
  const sealed = await sealExtract(buildExtract(bundles[i]!.entry.map((e) => e.resource), { categories: MASK }), { committee, studyId: STUDY });
  store.put(sealed.extractHash, sealed.ciphertext, sealed.shares);
  extractOf.set(p.study.address, sealed.extractHash);
  const data = encodeFunctionData({ abi: studyRegistryAbi, functionName: 'enroll', args: [STUDY, eligibilityProofArgs(proof), sealed.extractHash] });
  const request = await signForwardRequest(p.study, { client: client(), address: forwarder }, { to: contracts.StudyRegistry, data, gas: 1_000_000n, deadline: time + 600 });
  const sent = await relay(server.url, request);
  expect(sent.status).toBe('success');
  expect(await client().getBalance({ address: p.study.address })).toBe(0n);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-scripted-run-'));
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = d.contracts;
  fromBlock = BigInt(d.startBlock);
  forwarder = c.Forwarder!.address;
  contracts = {
    StudyMarket: c.StudyMarket!.address,
    StudyRegistry: c.StudyRegistry!.address,
    TestToken: c.TestToken!.address,
    ConsentToken: c.ConsentToken!.address,
    Forwarder: forwarder,
    IssuerRegistry: c.IssuerRegistry!.address,
    EligibilityVerifier: c.EligibilityVerifier!.address,
  };
  // The release committee: 3 members, k = 2.
  for (const [i, m] of memberKeys.entries()) {
    await write(deployer, c.ReleaseCommittee!.address, releaseCommitteeAbi, 'addMember', [m.account.address, toHex(x25519.getPublicKey(m.secretKey)), i === 0 ? 1 : 2]);
  }
  const [epoch, threshold, members] = await client().readContract({ address: c.ReleaseCommittee!.address, abi: releaseCommitteeAbi, functionName: 'committee' });
  committee = { epoch: Number(epoch), threshold, members: members.map((m) => ({ id: m.account, publicKey: Uint8Array.from(Buffer.from(m.encryptionKey.slice(2), 'hex')) })) };
  // An accredited IRB and an accredited credential issuer.
  const orgs = c.OrganizationRegistry!.address;
  await write(irb, orgs, organizationRegistryAbi, 'register', [IRB_KIND, keccak256(toHex('scripted run irb')), keccak256(toHex('metadata'))]);
  await write(deployer, orgs, organizationRegistryAbi, 'accredit', [irb.address, BigInt((await chainTime()) + 365 * DAY)]);
  await addIssuer(ctx(deployer), issuer.publicKey);
  leaves = (await readIssuerLeaves(client(), contracts, { fromBlock })).leaves;
  server = await startRelayerServer(createRelayer({ rpcUrl: anvil.rpcUrl, chainId: CHAIN, privateKey: relayerAccount.privateKey, forwarder, allow: defaultAllowList(c) }));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('scripted run of the research marketplace (issue 7, done when)', () => {
  it('study, k gate, gasless enrollments, purchases, release, revocation, claims to the cent, refund, unlinkability', async () => {
    // A study with k = 3 at 5 tUSD per participant, approved by the IRB.
    const created = await createStudy(ctx(researcher), {
      metadataHash: keccak256(toHex('scripted run study')),
      criteriaHash: compileCriteria(CRITERIA).criteriaHash,
      categories: MASK,
      paymentToken: contracts.TestToken!,
      pricePerParticipant: PRICE,
      consentDuration: BigInt(180 * DAY),
      minCohort: 3,
      maxParticipants: 100,
    });
    expect(created.studyId).toBe(STUDY);
    await approveStudy(ctx(irb), STUDY, keccak256(toHex('IRB minutes: approved')));
    await faucet(ctx(researcher), researcher.address, 100_000_000n);
    const usd = () => client().readContract({ address: contracts.TestToken!, abi: testTokenAbi, functionName: 'balanceOf', args: [researcher.address] });

    // One patient enrolls; a purchase below k = 3 is refused.
    await enrollThroughRelayer(0);
    const tooSmall = await purchase(ctx(researcher), STUDY).catch((e: unknown) => e);
    expect(tooSmall).toBeInstanceOf(ActionRefusedError);
    expect((tooSmall as ActionRefusedError).errorName).toBe('StudyMarket__CohortTooSmall');

    // Three more, gaslessly through the relayer.
    for (const i of [1, 2, 3]) await enrollThroughRelayer(i);

    // A researcher buys; 2 of the 3 members release and confirm; the researcher opens exactly the 4 extracts.
    const buyerSecret = keccak256(toHex('scripted run researcher x25519'), 'bytes');
    const first = await purchase(ctx(researcher), STUDY);
    expect(first.amount).toBe(4n * PRICE);
    const r1 = await releaseAndConfirm({ ctx: ctx(deployer), members: [memberKeys[0]!, memberKeys[2]!], purchaseId: first.purchaseId, buyerKey: buyerPublicKey(buyerSecret), store, fromBlock });
    const opened1 = await openPurchasedExtracts({ buyer: researcher.address, buyerSecretKey: buyerSecret, purchaseId: first.purchaseId, studyId: STUDY, threshold: 2, released: r1.released, store });
    expect(opened1.map((o) => o.extractHash).sort()).toEqual([...extractOf.values()].sort());
    for (const o of opened1) expect(o.resources.some((r) => r.resourceType === 'Patient')).toBe(true);

    // Patient 3 revokes (gaslessly); a second purchase pays and releases only the 3 others.
    const revoker = patients[3]!.study;
    const revokeReq = await signForwardRequest(revoker, { client: client(), address: forwarder }, {
      to: contracts.ConsentToken,
      data: encodeFunctionData({ abi: consentTokenAbi, functionName: 'revoke', args: [STUDY] }),
      gas: 300_000n,
      deadline: (await chainTime()) + 600,
    });
    expect((await relay(server.url, revokeReq)).status).toBe('success');
    const second = await purchase(ctx(researcher), STUDY);
    expect(second.amount).toBe(3n * PRICE);
    const r2 = await releaseAndConfirm({ ctx: ctx(deployer), members: [memberKeys[1]!, memberKeys[2]!], purchaseId: second.purchaseId, buyerKey: buyerPublicKey(buyerSecret), store, fromBlock });
    const opened2 = await openPurchasedExtracts({ buyer: researcher.address, buyerSecretKey: buyerSecret, purchaseId: second.purchaseId, studyId: STUDY, threshold: 2, released: r2.released, store });
    expect(opened2.map((o) => o.extractHash).sort()).toEqual(patients.slice(0, 3).map((p) => extractOf.get(p.study.address)!).sort());

    // Claims, gasless, each to an address of the holder's choosing: to the cent.
    const expected = [2n * PRICE, 2n * PRICE, 2n * PRICE, PRICE];
    let claimed = 0n;
    for (const [i, p] of patients.entries()) {
      expect(await claimable(client(), contracts, STUDY, p.study.address)).toBe(expected[i]);
      const payee = privateKeyToAccount(keccak256(toHex(`scripted run payee ${i}`))).address;
      const c = await claimRelayed(ctx(deployer), p.study, server.url, STUDY, payee);
      expect(c.amount).toBe(expected[i]);
      expect(await client().readContract({ address: contracts.TestToken!, abi: testTokenAbi, functionName: 'balanceOf', args: [payee] })).toBe(expected[i]);
      claimed += c.amount;
    }
    expect(claimed).toBe(first.amount + second.amount);
    expect(claimed).toBe(35_000_000n);

    // A purchase nobody confirms is refunded after the deadline.
    const third = await purchase(ctx(researcher), STUDY);
    const before = await usd();
    await client().request({ method: 'evm_increaseTime' as never, params: [DAY + 1] as never });
    await client().request({ method: 'evm_mine' as never, params: [] as never });
    expect((await refund(ctx(deployer), third.purchaseId)).amount).toBe(third.amount);
    expect(await usd()).toBe(before + third.amount);
    expect((await readPurchase(client(), contracts, third.purchaseId))!.status).toBe('Refunded');
    expect(await usd()).toBe(100_000_000n - claimed);
    // The market holds nothing more.
    expect(await client().readContract({ address: contracts.TestToken!, abi: testTokenAbi, functionName: 'balanceOf', args: [contracts.StudyMarket] })).toBe(0n);

    // Unlinkability: no transaction (sender, target, input) and no log (topics, data) of the whole
    // run mentions a patient's main address; the study addresses do appear (they are the holders).
    const mains = patients.map((p) => p.main.slice(2).toLowerCase());
    const studies = patients.map((p) => p.study.address.slice(2).toLowerCase());
    const latest = await client().getBlockNumber();
    let seenStudy = 0;
    for (let n = 0n; n <= latest; n++) {
      const block = await client().getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        const receipt = await client().getTransactionReceipt({ hash: tx.hash });
        const text = [tx.from, tx.to ?? '', tx.input, ...receipt.logs.flatMap((l) => [l.address, l.data, ...l.topics])].join(' ').toLowerCase();
        for (const m of mains) expect(text).not.toContain(m);
        if (studies.some((s) => text.includes(s))) seenStudy++;
      }
    }
    expect(seenStudy).toBeGreaterThan(0);
  }, 180_000);
});
