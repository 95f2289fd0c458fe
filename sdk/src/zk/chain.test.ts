// Eligibility on a real chain with real proofs: issuers accredited and read back from events, studies
// created, an eligible patient enrolling with a Groth16 proof made by the sdk's prover, and each
// refusal (replay, front-running, wrong criteria, stale issuers root) coming back in words.
// Six proofs in all (each ~1-2 s on 2 cores).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, parseEventLogs, toHex, zeroAddress, zeroHash, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { consentTokenAbi, organizationRegistryAbi, studyRegistryAbi } from '../abi/generated.ts';
import { ALL_ABIS, ActionRefusedError } from '../access/actions.ts';
import { publicClientFor, walletClientFor } from '../clients.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import { nodeArtifacts } from './artifacts.node.ts';
import {
  addIssuer,
  approveStudy,
  checkEnrollment,
  closeStudy,
  createStudy,
  enroll,
  isEnrolled,
  isKnownRoot,
  pauseStudy,
  readConsent,
  readIssuerLeaves,
  readStudy,
  rejectStudy,
  removeIssuer,
  resumeStudy,
  revokeConsent,
  suspendStudy,
  type ZkContext,
  type ZkContracts,
} from './chain.ts';
import { issuerKeyFromSecret, issuerLeaf, signCredential, type Credential } from './credential.ts';
import { identityCommitment, identitySecretFromSeed } from './identity.ts';
import { compileCriteria } from './layout.ts';
import { proveEligibility, type EligibilityProofBundle } from './prove.ts';
import type { Criteria } from './types.ts';

const CHAIN = 31337;
const DAY = 86_400;
const enc = (s: string) => new TextEncoder().encode(s);
type Account = (typeof ANVIL_ACCOUNTS)[number];
// The deployer (issuer accreditor on the local chain), a researcher, one person's per-study
// addresses, and someone watching the mempool.
const [admin, researcher, inStudy1, inStudy2, inStudy1Again, inStudy3, inStudy4, mallory, irb] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => ANVIL_ACCOUNTS[i]!) as Account[] as [
  Account, Account, Account, Account, Account, Account, Account, Account, Account,
];
const RATIONALE = keccak256(toHex('IRB minutes: approved'));
const extractOf = (who: Account): Hex => keccak256(toHex(`sealed extract of ${who.address}`));

const DIABETES: Criteria = { version: 1, age: { min: 18, max: 75 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'], noneOf: ['C*'] }, credentialMaxAgeDays: 180 };
const NON_SMOKING_WOMEN: Criteria = { version: 1, sex: ['female'], smoker: ['never', 'former'], bmi: { max: 35 }, conditions: { noneOf: ['F*'] } };

let anvil: AnvilInstance;
let dir: string;
let contracts: ZkContracts;
let consentToken: Address;
let fromBlock: bigint;
const issuerA = issuerKeyFromSecret(enc('chain-test-issuer-a'));
const issuerB = issuerKeyFromSecret(enc('chain-test-issuer-b'));
const secret = identitySecretFromSeed(enc('chain-test-patient'));
let credential: Credential;
const artifacts = nodeArtifacts();

const ctx = (who: Account): ZkContext => ({
  wallet: walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey),
  client: publicClientFor(anvil.rpcUrl, CHAIN),
  contracts,
});
const client = () => publicClientFor(anvil.rpcUrl, CHAIN);
const chainTime = async () => Number((await client().getBlock({ blockTag: 'latest' })).timestamp);

async function prove(studyId: bigint, criteria: Criteria, recipient: Address, issuerLeaves?: bigint[]): Promise<EligibilityProofBundle> {
  const leaves = issuerLeaves ?? (await readIssuerLeaves(client(), contracts, { fromBlock })).leaves;
  return proveEligibility({ credential, secret, criteria, studyId, recipient, issuerLeaves: leaves, time: await chainTime(), artifacts });
}

async function refusal(p: Promise<unknown>): Promise<ActionRefusedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ActionRefusedError);
  return err as ActionRefusedError;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-zk-chain-'));
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: admin.privateKey, chainId: CHAIN, deploymentsDir: dir });
  contracts = {
    IssuerRegistry: d.contracts.IssuerRegistry!.address,
    StudyRegistry: d.contracts.StudyRegistry!.address,
    EligibilityVerifier: d.contracts.EligibilityVerifier!.address,
    ConsentToken: d.contracts.ConsentToken!.address,
  };
  consentToken = d.contracts.ConsentToken!.address;
  fromBlock = BigInt(d.startBlock);
  // An institutional review board, registered and accredited (the deployer accredits on 31337).
  const orgs = d.contracts.OrganizationRegistry!.address;
  const irbWallet = walletClientFor(anvil.rpcUrl, CHAIN, irb.privateKey);
  const adminWallet = walletClientFor(anvil.rpcUrl, CHAIN, admin.privateKey);
  const IRB_KIND = 4;
  for (const hash of [
    await irbWallet.writeContract({ address: orgs, abi: organizationRegistryAbi, functionName: 'register', args: [IRB_KIND, keccak256(toHex('Chain Test IRB')), zeroHash], chain: null }),
    await adminWallet.writeContract({ address: orgs, abi: organizationRegistryAbi, functionName: 'accredit', args: [irb.address, BigInt((await chainTime()) + 365 * DAY)], chain: null }),
  ]) {
    expect((await client().waitForTransactionReceipt({ hash })).status).toBe('success');
  }
  const now = await chainTime();
  credential = signCredential(issuerB, {
    attributes: { birthDate: '1970-06-15', sex: 'female', smoker: 'never', conditions: ['E11.9', 'I10'], measures: { hba1c: 7.4, bmi: 29.3 } },
    identityCommitment: identityCommitment(secret),
    issuedAt: now - 30 * DAY,
    expiresAt: now + 365 * DAY,
  });
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('eligibility on chain (real anvil, real proofs)', () => {
  const receipts: Record<string, Hex> = {};

  it('accredits issuers and reads the tree back from events, checked against the on-chain root', async () => {
    const a = await addIssuer(ctx(admin), issuerA.publicKey);
    const b = await addIssuer(ctx(admin), issuerB.publicKey);
    expect([a.index, b.index]).toEqual([0, 1]);
    expect(a.leaf).toBe(issuerLeaf(issuerA.publicKey));
    const tree = await readIssuerLeaves(client(), contracts, { fromBlock });
    expect(tree.leaves).toEqual([issuerLeaf(issuerA.publicKey), issuerLeaf(issuerB.publicKey)]);
    expect(tree.root).toBe(b.root);
    expect(await isKnownRoot(client(), contracts, b.root)).toBe(true);
    expect(await isKnownRoot(client(), contracts, a.root)).toBe(true); // superseded seconds ago
    expect(await isKnownRoot(client(), contracts, 0n)).toBe(false);
    const gas = (await client().getTransactionReceipt({ hash: b.hash })).gasUsed;
    expect(gas).toBeLessThan(400_000n); // the sdk's limit for addIssuer

    const again = await refusal(addIssuer(ctx(admin), issuerA.publicKey));
    expect(again.message).toBe('This issuer is already accredited');
    const stranger = await refusal(addIssuer(ctx(mallory), issuerKeyFromSecret(enc('chain-test-issuer-x')).publicKey));
    expect(stranger.message).toBe('This account does not hold the role this needs (issuer accreditor)');
    const offCurve = await refusal(addIssuer(ctx(admin), [issuerA.publicKey[0], issuerA.publicKey[1] + 1n]));
    expect(offCurve.message).toMatch(/not on the Baby Jubjub curve/);

    // Removed right after it was added, through one client: the path must come from the tree as it
    // is now, not at a block number viem cached a moment ago.
    const issuerC = issuerKeyFromSecret(enc('chain-test-issuer-c'));
    const accreditor = ctx(admin);
    await readIssuerLeaves(accreditor.client, contracts, { fromBlock });
    await addIssuer(accreditor, issuerC.publicKey);
    const removed = await removeIssuer(accreditor, issuerLeaf(issuerC.publicKey), { fromBlock });
    const after = await readIssuerLeaves(client(), contracts, { fromBlock });
    expect(after.leaves).toEqual([issuerLeaf(issuerA.publicKey), issuerLeaf(issuerB.publicKey), 0n]);
    expect(after.root).toBe(removed.root);
    const gone = await refusal(removeIssuer(ctx(admin), issuerLeaf(issuerC.publicKey), { fromBlock }));
    expect(gone.message).toBe('This issuer is not accredited (never added, or already removed)');
  });

  it('creates studies with their terms; they enroll only once an accredited IRB approves them', async () => {
    const terms = { protocolHash: keccak256(toHex('protocol')), consentHash: keccak256(toHex('consent')), categories: 0b101n, consentDuration: BigInt(180 * DAY), minCohort: 3, maxParticipants: 1000 };
    for (const criteria of [DIABETES, NON_SMOKING_WOMEN, DIABETES, NON_SMOKING_WOMEN]) {
      await createStudy(ctx(researcher), { metadataHash: keccak256(toHex(JSON.stringify(criteria))), criteriaHash: compileCriteria(criteria).criteriaHash, ...terms });
    }
    const s1 = await readStudy(client(), contracts, 1n);
    expect(s1).toMatchObject({ studyId: 1n, researcher: researcher.address, status: 'Pending', participantCount: 0, criteriaHash: compileCriteria(DIABETES).criteriaHash, ...terms });
    expect(await readStudy(client(), contracts, 5n)).toBeUndefined();
    // Terms no contract would take are refused before the chain is asked.
    await expect(createStudy(ctx(researcher), { metadataHash: zeroHash, criteriaHash: 1n, minCohort: 5, maxParticipants: 2 })).rejects.toMatchObject({
      code: 'STUDY_PARAMS_INVALID',
      message: expect.stringMatching(/maxParticipants must be at least minCohort/),
    });
    await expect(createStudy(ctx(researcher), { metadataHash: zeroHash, criteriaHash: 0n })).rejects.toMatchObject({ code: 'STUDY_PARAMS_INVALID' });
    // The contract's own check stands behind it: a hash outside the field.
    const outOfField = await refusal(createStudy(ctx(researcher), { metadataHash: zeroHash, criteriaHash: (1n << 255n) }));
    expect(outOfField.errorName).toBe('StudyRegistry__InvalidCriteriaHash');

    const pending = await refusal(enroll(ctx(inStudy1), 1n, await prove(1n, DIABETES, inStudy1.address)));
    expect(pending.message).toBe('Study #1 is pending IRB review, which does not allow this');
    const notIrb = await refusal(approveStudy(ctx(researcher), 1n, RATIONALE));
    expect(notIrb.message).toBe('Only an accredited institutional review board may decide on a study');
    for (const id of [1n, 2n, 3n, 4n]) {
      const decided = await approveStudy(ctx(irb), id, RATIONALE);
      expect(decided.events.map((e) => e.eventName)).toEqual(['StudyDecided', 'StudyStatusChanged']);
    }
    expect(await readStudy(client(), contracts, 1n)).toMatchObject({ status: 'Approved', irb: irb.address });
  });

  it('an eligible patient enrolls in study 1 with a real proof', async () => {
    const bundle = await prove(1n, DIABETES, inStudy1.address);
    await checkEnrollment(client(), contracts, 1n, bundle, inStudy1.address);
    const result = await enroll(ctx(inStudy1), 1n, bundle, extractOf(inStudy1));
    receipts.study1 = result.hash;
    expect(result.nullifier).toBe(bundle.nullifier);
    expect(result.extractHash).toBe(extractOf(inStudy1));
    expect(result.expiresAt).toBe(result.blockTimestamp + BigInt(180 * DAY));
    // The verifier spends the nullifier, the token is minted (the market's hook may log its own), then Enrolled.
    const names = result.events.map((e) => e.eventName);
    expect(names.filter((n) => ['NullifierConsumed', 'TransferSingle', 'ConsentGranted', 'Enrolled'].includes(n))).toEqual(['NullifierConsumed', 'TransferSingle', 'ConsentGranted', 'Enrolled']);
    expect(names.at(-1)).toBe('Enrolled');
    expect(await client().readContract({ address: consentToken, abi: consentTokenAbi, functionName: 'isActive', args: [inStudy1.address, 1n] })).toBe(true);
    expect(await client().readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'extractHashOf', args: [1n, inStudy1.address] })).toBe(extractOf(inStudy1));
    expect(await isEnrolled(client(), contracts, 1n, inStudy1.address)).toBe(true);
    expect((await readStudy(client(), contracts, 1n))!.participantCount).toBe(1);
    const receipt = await client().getTransactionReceipt({ hash: result.hash });
    expect(receipt.gasUsed).toBeLessThan(700_000n); // proof, mint and the market's hook: well under the explicit 1,500,000

    // The same address again: refused by the registry, in words, before any transaction.
    const replay = await refusal(enroll(ctx(inStudy1), 1n, bundle));
    expect(replay.message).toBe('This address is already enrolled in study #1');
    const dryRun = await refusal(checkEnrollment(client(), contracts, 1n, bundle, inStudy1.address));
    expect(dryRun.errorName).toBe('EligibilityVerifier__NullifierUsed');
  });

  it('the same person from a second address is refused by the nullifier', async () => {
    const bundle = await prove(1n, DIABETES, inStudy1Again.address);
    const replay = await refusal(enroll(ctx(inStudy1Again), 1n, bundle));
    expect(replay.errorName).toBe('EligibilityVerifier__NullifierUsed');
    expect(replay.message).toBe("This person is already enrolled in this study (the proof's nullifier was used before)");
    expect(await isEnrolled(client(), contracts, 1n, inStudy1Again.address)).toBe(false);
  });

  it('front-running: a copied proof is refused for another sender; study 2 then accepts its owner, unlinked to study 1', async () => {
    const bundle = await prove(2n, NON_SMOKING_WOMEN, inStudy2.address);
    const stolen = await refusal(enroll(ctx(mallory), 2n, bundle));
    expect(stolen.errorName).toBe('EligibilityVerifier__InvalidProof');
    expect(stolen.message).toContain(`this proof was made for ${inStudy2.address}, not for ${mallory.address}`);
    expect(await isEnrolled(client(), contracts, 2n, mallory.address)).toBe(false);

    const result = await enroll(ctx(inStudy2), 2n, bundle, extractOf(inStudy2));
    receipts.study2 = result.hash;
    expect(await isEnrolled(client(), contracts, 2n, inStudy2.address)).toBe(true);

    // What the chain says about the two enrollments of this one person: the events of each
    // transaction. What they share is only what every enrollment shows (the StudyRegistry, as the
    // verifier's consumer and the token's operator; the mint's zero sender and amount 1; the
    // expiry when both fell in the same second); the addresses, nullifiers and extract hashes differ.
    const values = async (hash: Hex) => {
      const { logs } = await client().getTransactionReceipt({ hash });
      return new Set(parseEventLogs({ abi: ALL_ABIS, logs }).flatMap((l) => Object.values(l.args as Record<string, unknown>).map((v) => String(v).toLowerCase())));
    };
    const [one, two] = [await values(receipts.study1!), await values(receipts.study2!)];
    expect(one.size).toBeGreaterThanOrEqual(6);
    const shared = [...one].filter((v) => two.has(v));
    expect(shared).toContain(contracts.StudyRegistry.toLowerCase());
    for (const personal of [inStudy1.address, inStudy2.address, extractOf(inStudy1), extractOf(inStudy2)]) expect(shared).not.toContain(personal.toLowerCase());
    expect(shared.filter((v) => v !== contracts.StudyRegistry.toLowerCase() && v !== zeroAddress && v !== '1' && !/^\d{10}$/.test(v))).toEqual([]);
  });

  it('a proof for other criteria than the study\'s is refused in words', async () => {
    // Study 3 asks DIABETES; this proof shows NON_SMOKING_WOMEN for study 3.
    const bundle = await prove(3n, NON_SMOKING_WOMEN, inStudy3.address);
    const wrong = await refusal(enroll(ctx(inStudy3), 3n, bundle));
    expect(wrong.errorName).toBe('EligibilityVerifier__WrongCriteria');
    expect(wrong.message).toBe("The proof is for other eligibility criteria than this study's");
  });

  it('a root superseded moments ago still enrolls; an hour later it is refused as stale', async () => {
    const oldLeaves = (await readIssuerLeaves(client(), contracts, { fromBlock })).leaves;
    // Issuer A (not the patient's) leaves: its leaf becomes 0, the root changes.
    const removed = await removeIssuer(ctx(admin), issuerLeaf(issuerA.publicKey), { fromBlock });
    const now = await readIssuerLeaves(client(), contracts, { fromBlock });
    expect(now.leaves).toEqual([0n, issuerLeaf(issuerB.publicKey), 0n]);
    expect(now.root).toBe(removed.root);

    const recent = await prove(3n, DIABETES, inStudy3.address, oldLeaves);
    await enroll(ctx(inStudy3), 3n, recent);

    await client().request({ method: 'evm_increaseTime' as never, params: [3600] as never });
    await client().request({ method: 'evm_mine' as never, params: [] as never });
    // A prover working from an issuer list cached before the change: time is now, root is stale.
    const stale = await prove(4n, NON_SMOKING_WOMEN, inStudy4.address, oldLeaves);
    const refused = await refusal(enroll(ctx(inStudy4), 4n, stale));
    expect(refused.errorName).toBe('EligibilityVerifier__UnknownRoot');
    expect(refused.message).toMatch(/changed more than an hour ago: make a new proof/);
    expect(await isKnownRoot(client(), contracts, stale.issuersRoot)).toBe(false);
    expect(await isKnownRoot(client(), contracts, now.root)).toBe(true);
  });

  it('IRB rejection and suspension, researcher pause, resume and close, each refusal in words', async () => {
    const params = { metadataHash: keccak256(toHex('lifecycle')), criteriaHash: compileCriteria(DIABETES).criteriaHash };
    const rejected = (await createStudy(ctx(researcher), params)).studyId;
    await rejectStudy(ctx(irb), rejected, RATIONALE);
    expect((await readStudy(client(), contracts, rejected))!.status).toBe('Rejected');
    expect((await refusal(approveStudy(ctx(irb), rejected, RATIONALE))).message).toBe(`Study #${rejected} is rejected by an IRB, which does not allow this`);

    const id = (await createStudy(ctx(researcher), params)).studyId;
    await approveStudy(ctx(irb), id, RATIONALE);
    expect((await refusal(pauseStudy(ctx(mallory), id))).message).toBe(`Only the researcher of study #${id} may do this`);
    await pauseStudy(ctx(researcher), id);
    expect((await readStudy(client(), contracts, id))!.status).toBe('Paused');
    await resumeStudy(ctx(researcher), id);
    expect((await readStudy(client(), contracts, id))!.status).toBe('Approved');
    const suspended = await suspendStudy(ctx(irb), id, RATIONALE);
    expect(suspended.events.map((e) => e.eventName)).toEqual(['StudySuspended', 'StudyStatusChanged']);
    expect((await refusal(closeStudy(ctx(researcher), id))).message).toBe(`Study #${id} is suspended by an IRB, which does not allow this`);

    const closed = (await createStudy(ctx(researcher), params)).studyId;
    await closeStudy(ctx(researcher), closed);
    expect((await readStudy(client(), contracts, closed))!.status).toBe('Closed');
  });

  it("a participant's consent: active for the study's duration, revoked by its holder only, once", async () => {
    const before = await readConsent(client(), contracts, inStudy2.address, 2n);
    expect(before).toMatchObject({ held: true, active: true, revoked: false });
    expect((await refusal(revokeConsent(ctx(mallory), 2n))).message).toBe('This address holds no consent to study #2');
    const revoked = await revokeConsent(ctx(inStudy2), 2n);
    expect(revoked.events.map((e) => e.eventName)).toContain('ConsentRevoked');
    expect(await readConsent(client(), contracts, inStudy2.address, 2n)).toEqual({ held: false, active: false, expiresAt: before.expiresAt, revoked: true });
    expect((await refusal(revokeConsent(ctx(inStudy2), 2n))).message).toBe('This address holds no consent to study #2');
    // Still enrolled (the record of it stays); the consent no longer counts.
    expect(await isEnrolled(client(), contracts, 2n, inStudy2.address)).toBe(true);
  });
});
