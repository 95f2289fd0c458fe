// Parity for the research marketplace: one scripted history on a real anvil with the deployed
// contracts — three studies (one approved, one rejected, one approved then suspended), a real
// Groth16 enrollment with an extract hash, a purchase confirmed by a one-member committee, a second
// one refunded after its deadline, a claim to another address and a revocation — indexed by the subgraph's compiled WASM mappings (the test host on the
// recorded logs) and by the embedded indexer (SQLite and PGlite). Both must give the same
// entities, and both must agree with the chain. One proof (~1.5 s).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, numberToHex, toHex, type Abi, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizationRegistryAbi, releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { claim, confirmPurchase, faucet, purchase, refund, signConfirm, type MarketContracts } from '../../sdk/src/research/market.ts';
import { x25519 } from '@noble/curves/ed25519.js';
import { privateKeyToAccount } from 'viem/accounts';
import { nodeArtifacts } from '../../sdk/src/zk/artifacts.node.ts';
import {
  addIssuer,
  approveStudy,
  createStudy,
  enroll,
  pauseStudy,
  readIssuerLeaves,
  rejectStudy,
  revokeConsent,
  suspendStudy,
  type ZkContracts,
} from '../../sdk/src/zk/chain.ts';
import { issuerKeyFromSecret, signCredential } from '../../sdk/src/zk/credential.ts';
import { identityCommitment, identitySecretFromSeed } from '../../sdk/src/zk/identity.ts';
import { compileCriteria } from '../../sdk/src/zk/layout.ts';
import { proveEligibility } from '../../sdk/src/zk/prove.ts';
import type { Criteria } from '../../sdk/src/zk/types.ts';
import { deployContracts, type DeployResult } from '../../contracts/script/deploy.ts';
import { openPgliteStore, openSqliteStore, type Store } from '../../workers/src/db/open.ts';
import { dumpEntities } from '../../workers/src/indexer/dump.ts';
import { createIndexer } from '../../workers/src/indexer/indexer.ts';
import { indexWith as indexWithStore } from './index-with.ts';
import { ensureSubgraphBuilt, MappingHost, type EntityDump } from './host/index.ts';
import { recordLogs } from './host/record.ts';
import { graphql } from 'graphql';
import { loadEntityModels } from '../../workers/src/indexer/entities.ts';
import { buildGraphQLSchema } from '../../workers/src/indexer/graphql/schema.ts';

const CHAIN = 31337;
const DAY = 86_400;
const IRB_KIND = 4;
const PRICE = 2_000_000n; // 2 tUSD (6 decimals)
const acct = (i: number) => ANVIL_ACCOUNTS[i]!;
const [deployer, researcher, irb, participant, member, payee] = [acct(0), acct(1), acct(2), acct(7), acct(8), acct(9)];
const RELEASE = keccak256(toHex('market parity release'));
const CRITERIA: Criteria = { version: 1, age: { min: 18, max: 99 } };
const EXTRACT = keccak256(toHex('market parity sealed extract'));
const enc = (s: string) => new TextEncoder().encode(s);

let anvil: AnvilInstance;
let tmp: string;
let deployment: DeployResult;
let contracts: ZkContracts & MarketContracts;
let head: number;
let mappingDump: EntityDump;
let studies: { approved: bigint; rejected: bigint; suspended: bigint };
let bought: { purchaseId: bigint; amount: bigint; deadline: bigint };
let confirmed: { purchaseId: bigint; amount: bigint; rewardPerToken: bigint };
let claimedAmount: bigint;
let nullifier: bigint;

const client = () => publicClientFor(anvil.rpcUrl, CHAIN);
const ctx = (who: { privateKey: Hex }) => ({ wallet: walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey), client: client(), contracts });
const chainTime = async () => Number((await client().getBlock()).timestamp);
const rationale = (s: string) => keccak256(toHex(s));

async function write(who: { privateKey: Hex }, address: Hex, abi: Abi, functionName: string, args: readonly unknown[]) {
  const w = walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey);
  const hash = await w.writeContract({ address, abi, functionName, args, gas: 1_000_000n, chain: null } as Parameters<typeof w.writeContract>[0]);
  if ((await client().waitForTransactionReceipt({ hash })).status !== 'success') throw new Error(`${functionName} reverted`);
}

async function newStudy(label: string) {
  const created = await createStudy(ctx(researcher), {
    metadataHash: keccak256(toHex(label)),
    criteriaHash: compileCriteria(CRITERIA).criteriaHash,
    categories: 3n,
    paymentToken: contracts.TestToken!,
    pricePerParticipant: PRICE,
    consentDuration: BigInt(90 * DAY),
    minCohort: 1,
    maxParticipants: 10,
  });
  return created.studyId;
}

const indexWith = (open: () => Promise<Store>): Promise<EntityDump> => indexWithStore(open, { rpcUrl: anvil.rpcUrl, deployment, confirmations: 0, pageSize: 5 }, head);

beforeAll(async () => {
  const built = ensureSubgraphBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'consentry-market-parity-'));
  anvil = await startAnvil();
  deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: join(tmp, 'deployments') });
  const c = deployment.contracts;
  contracts = {
    StudyRegistry: c.StudyRegistry!.address,
    ConsentToken: c.ConsentToken!.address,
    IssuerRegistry: c.IssuerRegistry!.address,
    EligibilityVerifier: c.EligibilityVerifier!.address,
    StudyMarket: c.StudyMarket!.address,
    TestToken: c.TestToken!.address,
    Forwarder: c.Forwarder?.address,
  } as ZkContracts & MarketContracts;
  // An accredited IRB and an accredited credential issuer.
  const orgs = c.OrganizationRegistry!.address;
  await write(irb, orgs, organizationRegistryAbi, 'register', [IRB_KIND, keccak256(toHex('market parity irb')), keccak256(toHex('metadata'))]);
  await write(deployer, orgs, organizationRegistryAbi, 'accredit', [irb.address, BigInt((await chainTime()) + 365 * DAY)]);
  const issuer = issuerKeyFromSecret(enc('market-parity-issuer'));
  await addIssuer(ctx(deployer), issuer.publicKey);
  const leaves = (await readIssuerLeaves(client(), contracts, { fromBlock: BigInt(deployment.startBlock) })).leaves;

  studies = { approved: await newStudy('approved'), rejected: await newStudy('rejected'), suspended: await newStudy('suspended') };
  await approveStudy(ctx(irb), studies.approved, rationale('fine'));
  await rejectStudy(ctx(irb), studies.rejected, rationale('not fine'));
  await approveStudy(ctx(irb), studies.suspended, rationale('fine at first'));
  await suspendStudy(ctx(irb), studies.suspended, rationale('adverse events'));

  // One participant enrolls with a real proof for its own address.
  const secret = identitySecretFromSeed(enc('market-parity-participant'));
  const time = await chainTime();
  const credential = signCredential(issuer, {
    attributes: { birthDate: '1970-05-01', sex: 'female', smoker: 'never', conditions: [], measures: {} },
    identityCommitment: identityCommitment(secret),
    issuedAt: time - DAY,
    expiresAt: time + 365 * DAY,
  });
  const proof = await proveEligibility({ credential, secret, criteria: CRITERIA, studyId: studies.approved, recipient: participant.address, issuerLeaves: leaves, time, artifacts: nodeArtifacts() });
  nullifier = (await enroll(ctx(participant), studies.approved, proof, EXTRACT)).nullifier;

  // A one-member committee (k = 1). The researcher buys the cohort and the member confirms; a second
  // purchase nobody confirms is refunded after the deadline; the participant claims, then revokes.
  const memberKey = toHex(x25519.getPublicKey(keccak256(toHex('market parity member'), 'bytes')));
  await write(deployer, c.ReleaseCommittee!.address, releaseCommitteeAbi, 'addMember', [member.address, memberKey, 1]);
  await faucet(ctx(researcher), researcher.address, 10_000_000n);
  const first = await purchase(ctx(researcher), studies.approved);
  const signature = await signConfirm(privateKeyToAccount(member.privateKey), client(), contracts.StudyMarket, {
    purchaseId: first.purchaseId,
    studyId: studies.approved,
    buyer: researcher.address,
    releaseHash: RELEASE,
  });
  const done = await confirmPurchase(ctx(deployer), first.purchaseId, RELEASE, [signature]);
  confirmed = { purchaseId: first.purchaseId, amount: first.amount, rewardPerToken: done.rewardPerToken };
  bought = await purchase(ctx(researcher), studies.approved);
  await client().request({ method: 'evm_increaseTime' as never, params: [DAY + 1] as never });
  await client().request({ method: 'evm_mine' as never, params: [] as never });
  await refund(ctx(deployer), bought.purchaseId);
  claimedAmount = (await claim(ctx(participant), studies.approved, payee.address)).amount;
  await revokeConsent(ctx(participant), studies.approved);
  head = Number(await client().getBlockNumber());

  const recorded = await recordLogs(anvil.rpcUrl, { fromBlock: deployment.startBlock, toBlock: head });
  await built;
  mappingDump = new MappingHost({
    sources: { StudyRegistry: c.StudyRegistry!, ConsentToken: c.ConsentToken!, StudyMarket: c.StudyMarket! },
  })
    .run(recorded)
    .dump();
}, 240_000);

afterAll(async () => {
  await anvil?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const id32 = (n: bigint) => numberToHex(n, { size: 32 });

describe('marketplace: subgraph mappings vs embedded indexer on one scripted history', () => {
  it('the mappings produce the expected studies, decisions, enrollment, purchase, refund and revocation', () => {
    const byStudy = Object.fromEntries(mappingDump.Study!.map((s) => [s.id, s]));
    expect(Object.keys(byStudy).sort()).toEqual([studies.approved, studies.rejected, studies.suspended].map(id32).sort());
    expect(byStudy[id32(studies.approved)]).toMatchObject({
      status: 'Approved',
      researcher: researcher.address.toLowerCase(),
      pricePerParticipant: PRICE.toString(),
      minCohort: 1,
      participants: 1,
      active: 0, // joined, then left on revocation
      purchases: 2,
      purchased: (PRICE * 2n).toString(),
      refunded: PRICE.toString(),
      confirmed: PRICE.toString(),
      claimed: PRICE.toString(),
    });
    expect(claimedAmount).toBe(PRICE);
    expect(byStudy[id32(studies.rejected)]!.status).toBe('Rejected');
    expect(byStudy[id32(studies.suspended)]!.status).toBe('Suspended');
    expect(mappingDump.IrbDecision!.map((d) => [d.study, d.decision, d.irb]).sort()).toEqual(
      [
        [id32(studies.approved), 'approved', irb.address.toLowerCase()],
        [id32(studies.rejected), 'rejected', irb.address.toLowerCase()],
        [id32(studies.suspended), 'approved', irb.address.toLowerCase()],
        [id32(studies.suspended), 'suspended', irb.address.toLowerCase()],
      ].sort(),
    );
    expect(mappingDump.Enrollment).toEqual([
      expect.objectContaining({ study: id32(studies.approved), participant: participant.address.toLowerCase(), nullifier: nullifier.toString(), extractHash: EXTRACT }),
    ]);
    const purchases = Object.fromEntries(mappingDump.Purchase!.map((p) => [p.id, p]));
    expect(Object.keys(purchases)).toHaveLength(2);
    expect(purchases[id32(confirmed.purchaseId)]).toMatchObject({ buyer: researcher.address.toLowerCase(), cohort: 1, amount: confirmed.amount.toString(), status: 'confirmed' });
    expect(purchases[id32(bought.purchaseId)]).toMatchObject({ cohort: 1, amount: bought.amount.toString(), deadline: bought.deadline.toString(), status: 'refunded' });
    expect(mappingDump.Refund).toEqual([expect.objectContaining({ purchase: id32(bought.purchaseId), amount: bought.amount.toString() })]);
    expect(mappingDump.ConsentRevocation).toEqual([expect.objectContaining({ study: id32(studies.approved), holder: participant.address.toLowerCase() })]);
    expect(mappingDump.PurchaseConfirmation).toEqual([
      expect.objectContaining({ purchase: id32(confirmed.purchaseId), releaseHash: RELEASE, rewardPerToken: confirmed.rewardPerToken.toString() }),
    ]);
    expect(mappingDump.Issuer).toEqual([expect.objectContaining({ index: '0', active: true })]);
    expect(mappingDump.Issuer![0]!.leaf).toBe(BigInt(mappingDump.Issuer![0]!.id as Hex).toString());
    expect(mappingDump.Claim).toEqual([
      expect.objectContaining({ study: id32(studies.approved), holder: participant.address.toLowerCase(), recipient: payee.address.toLowerCase(), amount: PRICE.toString() }),
    ]);
  });

  it('the embedded indexer (SQLite) gives exactly the same entities', async () => {
    expect(await indexWith(() => openSqliteStore(join(tmp, 'indexer.sqlite')))).toEqual(mappingDump);
  });

  it('the embedded indexer (PGlite) gives exactly the same entities', async () => {
    expect(await indexWith(() => openPgliteStore())).toEqual(mappingDump);
  });

  it('a reorg puts Study back and drops the branch events; GraphQL serves the market entities', async () => {
    const store = await openSqliteStore(join(tmp, 'reorg.sqlite'));
    try {
      const indexer = createIndexer({ rpcUrl: anvil.rpcUrl, deployment, store, confirmations: 0 });
      await indexer.syncToHead();
      const before = await dumpEntities(store);
      expect(before).toEqual(mappingDump);

      // On a branch that will be dropped: the approved study is paused, a fourth study appears and is approved.
      const snapshot = await client().request({ method: 'evm_snapshot' as never, params: [] as never });
      await pauseStudy(ctx(researcher), studies.approved);
      const branchStudy = await newStudy('branch');
      await approveStudy(ctx(irb), branchStudy, rationale('branch'));
      await indexer.syncToHead();
      expect(await store.findById('Study', id32(studies.approved))).toMatchObject({ status: 'Paused' });
      expect(await store.findById('Study', id32(branchStudy))).toMatchObject({ status: 'Approved' });
      expect(await store.count('IrbDecision')).toBe(before.IrbDecision.length + 1);

      expect(await client().request({ method: 'evm_revert' as never, params: [snapshot] as never })).toBe(true);
      await client().request({ method: 'anvil_mine' as never, params: ['0xc'] as never }); // a longer branch without them
      const status = await indexer.syncToHead();
      expect(status.reorgs).toBeGreaterThanOrEqual(1);
      expect(await dumpEntities(store)).toEqual(before);

      const schema = buildGraphQLSchema({
        models: loadEntityModels().models,
        store,
        meta: () => ({ checkpoint: indexer.status().checkpoint, hasIndexingErrors: false, deployment: 'test' }),
      });
      const result = await graphql({
        schema,
        source: `query ($study: Bytes!) {
          studies(where: { status: "Approved" }) { studyId researcher participants active purchases purchased refunded }
          irbDecisions(where: { study: $study }) { decision irb }
          enrollments { participant extractHash }
          purchases(where: { status: "refunded" }) { purchaseId status amount cohort }
          claims { recipient amount }
          refunds { amount }
          consentRevocations { holder }
        }`,
        variableValues: { study: id32(studies.approved) },
      });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        studies: [
          {
            studyId: studies.approved.toString(),
            researcher: researcher.address.toLowerCase(),
            participants: 1,
            active: 0,
            purchases: 2,
            purchased: (PRICE * 2n).toString(),
            refunded: bought.amount.toString(),
          },
        ],
        irbDecisions: [{ decision: 'approved', irb: irb.address.toLowerCase() }],
        enrollments: [{ participant: participant.address.toLowerCase(), extractHash: EXTRACT }],
        purchases: [{ purchaseId: bought.purchaseId.toString(), status: 'refunded', amount: bought.amount.toString(), cohort: 1 }],
        refunds: [{ amount: bought.amount.toString() }],
        claims: [{ recipient: payee.address.toLowerCase(), amount: PRICE.toString() }],
        consentRevocations: [{ holder: participant.address.toLowerCase() }],
      });
    } finally {
      await store.close();
    }
  });
});
