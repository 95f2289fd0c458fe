// The committee's release for a purchase on a real anvil chain with the deployed contracts and real
// proofs: three synthetic patients enroll (Groth16 proofs, sealed Safe Harbor extracts registered
// with enrollment), a researcher buys, two of the three committee members release and confirm, and
// the buyer opens exactly the three extracts; the cohort is read from the chain; a third party
// cannot open what was released to the buyer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { organizationRegistryAbi, releaseCommitteeAbi } from '../abi/generated.ts';
import { publicClientFor, walletClientFor } from '../clients.ts';
import type { Committee } from '../crypto/shares.ts';
import { CATEGORIES, categoryMask } from '../records/categories.ts';
import { synthesizeBundles } from '../synth/generate.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import { nodeArtifacts } from '../zk/artifacts.node.ts';
import { addIssuer, approveStudy, createStudy, enroll, readIssuerLeaves, type ZkContracts } from '../zk/chain.ts';
import { issuerKeyFromSecret, signCredential } from '../zk/credential.ts';
import { identityCommitment, identitySecretFromSeed } from '../zk/identity.ts';
import { compileCriteria } from '../zk/layout.ts';
import { proveEligibility } from '../zk/prove.ts';
import type { Criteria } from '../zk/types.ts';
import { buildExtract } from './extract.ts';
import { faucet, purchase, readPurchase, type MarketContracts } from './market.ts';
import { buyerPublicKey, memoryExtractStore, openPurchasedExtracts, purchaseCohort, releaseAndConfirm, type ReleaseContracts } from './purchase-release.ts';
import { sealExtract } from './seal-extract.ts';

const CHAIN = 31337;
const DAY = 86_400;
const IRB_KIND = 4;
const enc = (s: string) => new TextEncoder().encode(s);
const acct = (i: number) => ANVIL_ACCOUNTS[i]!;
const [deployer, researcher, irb] = [acct(0), acct(1), acct(2)];
// Per-study addresses of three patients (funded anvil accounts here: the relayed path is scripted-run's).
const participants = [acct(7), acct(8), acct(9)];
const memberKeys = [4, 5, 6].map((i) => ({ account: privateKeyToAccount(acct(i).privateKey), secretKey: keccak256(toHex(`release test member ${i}`), 'bytes') }));
const CRITERIA: Criteria = { version: 1, age: { min: 18, max: 99 } };
const CATEGORIES_MASK = BigInt(categoryMask([...CATEGORIES]));

let anvil: AnvilInstance;
let dir: string;
let contracts: MarketContracts & ReleaseContracts & ZkContracts;
let fromBlock: bigint;
const store = memoryExtractStore();
const registered: Hex[] = [];
const client = () => publicClientFor(anvil.rpcUrl, CHAIN);
const wallet = (who: { privateKey: Hex }) => walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey);
const ctx = (who: { privateKey: Hex }) => ({ wallet: wallet(who), client: client(), contracts });

async function write(who: { privateKey: Hex }, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) {
  const w = wallet(who);
  const hash = await w.writeContract({ address, abi, functionName, args, gas: 1_000_000n, chain: null } as Parameters<typeof w.writeContract>[0]);
  if ((await client().waitForTransactionReceipt({ hash })).status !== 'success') throw new Error(`${functionName} reverted`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-release-'));
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = d.contracts;
  fromBlock = BigInt(d.startBlock);
  contracts = {
    StudyMarket: c.StudyMarket!.address,
    StudyRegistry: c.StudyRegistry!.address,
    TestToken: c.TestToken!.address,
    ConsentToken: c.ConsentToken!.address,
    IssuerRegistry: c.IssuerRegistry!.address,
    EligibilityVerifier: c.EligibilityVerifier!.address,
  };
  const committeeAddress = c.ReleaseCommittee!.address;
  for (const [i, m] of memberKeys.entries()) {
    await write(deployer, committeeAddress, releaseCommitteeAbi, 'addMember', [m.account.address, toHex(x25519.getPublicKey(m.secretKey)), i === 0 ? 1 : 2]);
  }
  const [epoch, threshold, members] = await client().readContract({ address: committeeAddress, abi: releaseCommitteeAbi, functionName: 'committee' });
  const committee: Committee = {
    epoch: Number(epoch),
    threshold,
    members: members.map((m) => ({ id: m.account, publicKey: Uint8Array.from(Buffer.from(m.encryptionKey.slice(2), 'hex')) })),
  };

  const orgs = c.OrganizationRegistry!.address;
  await write(irb, orgs, organizationRegistryAbi, 'register', [IRB_KIND, keccak256(toHex('release test irb')), keccak256(toHex('metadata'))]);
  const now = Number((await client().getBlock()).timestamp);
  await write(deployer, orgs, organizationRegistryAbi, 'accredit', [irb.address, BigInt(now + 365 * DAY)]);
  await createStudy(ctx(researcher), {
    metadataHash: keccak256(toHex('release test study')),
    criteriaHash: compileCriteria(CRITERIA).criteriaHash,
    categories: CATEGORIES_MASK,
    paymentToken: contracts.TestToken!,
    pricePerParticipant: 5_000_000n,
    consentDuration: BigInt(180 * DAY),
    minCohort: 3,
    maxParticipants: 10,
  });
  await approveStudy(ctx(irb), 1n, keccak256(toHex('approved')));

  const issuer = issuerKeyFromSecret(enc('release-test-issuer'));
  await addIssuer(ctx(deployer), issuer.publicKey);
  const leaves = (await readIssuerLeaves(client(), contracts, { fromBlock })).leaves;
  const bundles = synthesizeBundles({ patients: 3, seed: 'purchase-release' });
  const artifacts = nodeArtifacts();
  for (const [i, who] of participants.entries()) {
    const secret = identitySecretFromSeed(enc(`release-test-patient-${i}`));
    const time = Number((await client().getBlock()).timestamp);
    const credential = signCredential(issuer, {
      attributes: { birthDate: '1960-01-01', sex: 'female', smoker: 'never', conditions: [], measures: {} },
      identityCommitment: identityCommitment(secret),
      issuedAt: time - DAY,
      expiresAt: time + 365 * DAY,
    });
    const proof = await proveEligibility({ credential, secret, criteria: CRITERIA, studyId: 1n, recipient: who.address, issuerLeaves: leaves, time, artifacts });
    const extract = buildExtract(bundles[i]!.entry.map((e) => e.resource), { categories: CATEGORIES_MASK });
    const sealed = await sealExtract(extract, { committee, studyId: 1n });
    store.put(sealed.extractHash, sealed.ciphertext, sealed.shares);
    registered.push(sealed.extractHash);
    await enroll(ctx(who), 1n, proof, sealed.extractHash);
  }
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('purchase release (real chain, real proofs, sealed extracts)', () => {
  it('two of three members release the cohort to the buyer and confirm; the buyer opens exactly its extracts', async () => {
    await faucet(ctx(researcher), researcher.address, 100_000_000n);
    const bought = await purchase(ctx(researcher), 1n);
    expect(bought.cohort).toBe(3);

    const cohort = await purchaseCohort(client(), contracts, bought.purchaseId, fromBlock);
    expect(cohort.holders.map((h) => h.holder).sort()).toEqual(participants.map((p) => p.address).sort());
    expect(cohort.holders.map((h) => h.extractHash).sort()).toEqual([...registered].sort());

    const buyerSecret = keccak256(toHex('release test buyer key'), 'bytes');
    const result = await releaseAndConfirm({ ctx: ctx(deployer), members: memberKeys.slice(1), purchaseId: bought.purchaseId, buyerKey: buyerPublicKey(buyerSecret), store, fromBlock });
    expect(result.released).toHaveLength(6);
    expect((await readPurchase(client(), contracts, bought.purchaseId))!.status).toBe('Confirmed');

    const opened = await openPurchasedExtracts({ buyer: researcher.address, buyerSecretKey: buyerSecret, purchaseId: bought.purchaseId, studyId: 1n, threshold: 2, released: result.released, store });
    expect(opened.map((o) => o.extractHash).sort()).toEqual([...registered].sort());
    for (const o of opened) {
      expect(o.resources.length).toBeGreaterThan(0);
      expect(o.resources.some((r) => r.resourceType === 'Patient')).toBe(true);
    }
    // Someone else's key opens nothing of it.
    await expect(
      openPurchasedExtracts({ buyer: researcher.address, buyerSecretKey: keccak256(toHex('someone else'), 'bytes'), purchaseId: bought.purchaseId, studyId: 1n, threshold: 2, released: result.released, store }),
    ).rejects.toThrow();
  }, 120_000);
});
