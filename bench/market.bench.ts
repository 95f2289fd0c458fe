/**
 * Gas of the research market's transactions, from real receipts on anvil (the deploy script's
 * StudyRegistry, ConsentToken, ReleaseCommittee, TestToken and StudyMarket). Two approved studies,
 * one with 10 active participants and one with 1,000; each has had one confirmed purchase already,
 * so the figures are those of a market in use (the first purchase of a study also stores its token
 * and the first escrow balance). Cohorts are minted by an account the bench grants MINTER_ROLE
 * (a real enrollment needs a zero-knowledge proof each, ~1.5 s); the enrollment figures come from
 * real ones, each with its own Groth16 proof (circuits/build: `npm run circuits:setup`), made by a
 * fresh per-study address into the small study once the market has run (purchases confirmed, a
 * claim, a revocation), after one unmeasured enrollment so the study's first-participant writes
 * are not counted.
 *   market.purchase_gas_10     purchase with 10 active participants (escrow pulled, no loop)
 *   market.purchase_gas_1000   the same with 1,000: must be within 5% of the above
 *   market.confirm_gas         confirm with 2 committee signatures (threshold 2 of 3)
 *   market.claim_gas           a holder's first claim (earned from two purchases), to another address
 *   market.revoke_gas          ConsentToken.revoke with the market's hook checkpointing the holder
 *   market.enroll_gas          StudyRegistry.enroll sent by the participant (proof checked and consumed,
 *                              consent token minted, the market's hook): the receipt's gasUsed
 *   market.enroll_relayed_gas  the same enrollment, gasless: signed by the per-study address and sent
 *                              by the real relayer (workers/src/relayer) through the ERC-2771 Forwarder
 *   market.enroll_verify_gas   of which the Groth16 check alone: a transaction calling the deployed
 *                              EligibilityGroth16Verifier.verifyProof with the same proof
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, encodeFunctionData, keccak256, parseEther, toHex, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { deployContracts } from '../contracts/script/deploy.ts';
import { defaultAllowList } from '../workers/src/relayer/main.ts';
import { createRelayer } from '../workers/src/relayer/relayer.ts';
import {
  consentTokenAbi,
  groth16VerifierAbi,
  organizationRegistryAbi,
  releaseCommitteeAbi,
  studyMarketAbi,
  studyRegistryAbi,
  testTokenAbi,
} from '../sdk/src/abi/generated.ts';
import { publicClientFor, walletClientFor } from '../sdk/src/clients.ts';
import '../sdk/src/polyfills.ts';
import { forwardRequestToJson, signForwardRequest } from '../sdk/src/research/forwarder.ts';
import { ANVIL_ACCOUNTS, startAnvil } from '../sdk/src/testing/anvil.ts';
import { nodeArtifacts } from '../sdk/src/zk/artifacts.node.ts';
import { addIssuer, eligibilityProofArgs, enroll, readIssuerLeaves, ZK_GAS, type ZkContracts } from '../sdk/src/zk/chain.ts';
import { issuerKeyFromSecret, signCredential } from '../sdk/src/zk/credential.ts';
import { identityCommitment, identitySecretFromSeed } from '../sdk/src/zk/identity.ts';
import { compileCriteria } from '../sdk/src/zk/layout.ts';
import { proveEligibility, publicSignalsOf } from '../sdk/src/zk/prove.ts';
import { studyAccountKey } from '../sdk/src/zk/study-account.ts';
import type { Criteria } from '../sdk/src/zk/types.ts';

const CHAIN = 31337;
const PRICE = 5_000_000n; // 5 tUSD per participant
const DAY = 24 * 3600;
const IRB_KIND = 4;
const CRITERIA: Criteria = { version: 1, age: { min: 18, max: 99 } };
const enc = (s: string) => new TextEncoder().encode(s);
// Fails here, before anvil starts, when the circuit is not built.
const zkFiles = nodeArtifacts();

const anvil = await startAnvil();
const dir = mkdtempSync(join(tmpdir(), 'consentry-market-bench-'));
try {
  const deployer = ANVIL_ACCOUNTS[0]!;
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = deployment.contracts;
  if (
    !c.StudyMarket ||
    !c.TestToken ||
    !c.ConsentToken ||
    !c.StudyRegistry ||
    !c.OrganizationRegistry ||
    !c.ReleaseCommittee ||
    !c.IssuerRegistry ||
    !c.EligibilityVerifier ||
    !c.EligibilityGroth16Verifier ||
    !c.Forwarder
  ) {
    throw new Error('the deployment has no StudyMarket (or its companions): is it wired in contracts/script/deploy.ts?');
  }
  const [market, usd, consent, studies, orgs, committee] = [
    c.StudyMarket.address,
    c.TestToken.address,
    c.ConsentToken.address,
    c.StudyRegistry.address,
    c.OrganizationRegistry.address,
    c.ReleaseCommittee.address,
  ];
  const client = publicClientFor(anvil.rpcUrl, CHAIN);

  /** Sends one transaction from `privateKey` and returns the gas its receipt reports. */
  const send = async (privateKey: Hex, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => {
    const wallet = walletClientFor(anvil.rpcUrl, CHAIN, privateKey);
    const hash = await wallet.writeContract({ address, abi, functionName, args, gas: 2_000_000n } as Parameters<typeof wallet.writeContract>[0]);
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${functionName} reverted (${hash})`);
    return Number(receipt.gasUsed);
  };

  const account = (i: number) => ANVIL_ACCOUNTS[i]!;
  const [researcher, irb, minter, holderA, holderB] = [account(1), account(2), account(3), account(8), account(9)];
  const members = ANVIL_ACCOUNTS.slice(4, 7);

  // The committee: 3 members, threshold 2.
  for (const [i, m] of members.entries()) {
    const key = bytesToHex(x25519.getPublicKey(keccak256(toHex(`bench member ${i}`), 'bytes')));
    await send(deployer.privateKey, committee, releaseCommitteeAbi, 'addMember', [m.address, key, i === 0 ? 1 : 2]);
  }
  // An accredited IRB and two approved studies.
  await send(irb.privateKey, orgs, organizationRegistryAbi, 'register', [IRB_KIND, keccak256(toHex('bench irb')), keccak256(toHex('metadata'))]);
  await send(deployer.privateKey, orgs, organizationRegistryAbi, 'accredit', [irb.address, BigInt(Math.floor(Date.now() / 1000) + 365 * DAY)]);
  const params = {
    metadataHash: keccak256(toHex('bench study')),
    protocolHash: keccak256(toHex('protocol')),
    consentHash: keccak256(toHex('consent')),
    criteriaHash: compileCriteria(CRITERIA).criteriaHash,
    categories: 5n,
    paymentToken: usd,
    pricePerParticipant: PRICE,
    consentDuration: BigInt(180 * DAY),
    minCohort: 3,
    maxParticipants: 2000,
  };
  for (const studyId of [1n, 2n]) {
    await send(researcher.privateKey, studies, studyRegistryAbi, 'createStudy', [params]);
    await send(irb.privateKey, studies, studyRegistryAbi, 'approve', [studyId, keccak256(toHex('rationale'))]);
  }
  // Cohorts: 10 in study 1 (two of them anvil accounts with ether, to claim and revoke), 1,000 in study 2.
  const minterRole = await client.readContract({ address: consent, abi: consentTokenAbi, functionName: 'MINTER_ROLE' });
  await send(deployer.privateKey, consent, consentTokenAbi, 'grantRole', [minterRole, minter.address]);
  const mintWallet = walletClientFor(anvil.rpcUrl, CHAIN, minter.privateKey);
  const mint = async (studyId: bigint, holders: readonly Address[]) => {
    let nonce = await client.getTransactionCount({ address: minter.address });
    let last: Hex | undefined;
    for (const holder of holders) {
      const block = await client.getBlock();
      last = await mintWallet.writeContract({
        address: consent,
        abi: consentTokenAbi,
        functionName: 'mint',
        args: [holder, studyId, block.timestamp + BigInt(180 * DAY)],
        gas: 300_000n,
        nonce: nonce++,
      } as Parameters<typeof mintWallet.writeContract>[0]);
    }
    if (last) {
      const receipt = await client.waitForTransactionReceipt({ hash: last });
      if (receipt.status !== 'success') throw new Error(`mint reverted (${last})`);
    }
  };
  const fresh = (n: number, tag: string) => Array.from({ length: n }, (_, i) => privateKeyToAccount(keccak256(toHex(`${tag} ${i}`))).address);
  await mint(1n, [holderA.address, holderB.address, ...fresh(8, 'small')]);
  await mint(2n, fresh(1000, 'large'));

  await send(deployer.privateKey, usd, testTokenAbi, 'faucet', [researcher.address, 1_000_000_000_000n]);
  await send(researcher.privateKey, usd, testTokenAbi, 'approve', [market, 2n ** 256n - 1n]);

  const purchaseIdOf = async () => client.readContract({ address: market, abi: studyMarketAbi, functionName: 'purchaseCount' });
  const confirm = async (purchaseId: bigint) => {
    const p = await client.readContract({ address: market, abi: studyMarketAbi, functionName: 'purchaseOf', args: [purchaseId] });
    const releaseHash = keccak256(toHex(`release ${purchaseId}`));
    const signers = members.slice(0, 2).map((m) => privateKeyToAccount(m.privateKey));
    signers.sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const signatures = await Promise.all(
      signers.map((s) =>
        s.signTypedData({
          domain: { name: 'Consentry StudyMarket', version: '1', chainId: CHAIN, verifyingContract: market },
          types: { Confirm: [{ name: 'purchaseId', type: 'uint256' }, { name: 'studyId', type: 'uint256' }, { name: 'buyer', type: 'address' }, { name: 'releaseHash', type: 'bytes32' }] },
          primaryType: 'Confirm',
          message: { purchaseId, studyId: p.studyId, buyer: p.buyer, releaseHash },
        }),
      ),
    );
    return send(ANVIL_ACCOUNTS[7]!.privateKey, market, studyMarketAbi, 'confirm', [purchaseId, releaseHash, signatures]);
  };
  const purchase = async (studyId: bigint) => {
    const gas = await send(researcher.privateKey, market, studyMarketAbi, 'purchase', [studyId]);
    return { gas, purchaseId: await purchaseIdOf() };
  };

  // One confirmed purchase of each study first (warm), then the measured ones.
  await confirm((await purchase(1n)).purchaseId);
  await confirm((await purchase(2n)).purchaseId);
  const small = await purchase(1n);
  const large = await purchase(2n);
  const confirmGas = await confirm(large.purchaseId);
  await confirm(small.purchaseId);
  const claim = await send(holderA.privateKey, market, studyMarketAbi, 'claim', [1n, ANVIL_ACCOUNTS[7]!.address]);
  const revoke = await send(holderB.privateKey, consent, consentTokenAbi, 'revoke', [1n]);

  const spread = Math.abs(large.gas - small.gas) / small.gas;
  console.log(`market.purchase_gas_10: ${small.gas} gas`);
  console.log(`market.purchase_gas_1000: ${large.gas} gas`);
  console.log(`market.purchase_spread: ${(spread * 100).toFixed(2)} %`);
  console.log(`market.confirm_gas: ${confirmGas} gas`);
  console.log(`market.claim_gas: ${claim} gas`);
  console.log(`market.revoke_gas: ${revoke} gas`);
  // Enrollment, with real proofs: an accredited credential issuer, then per-study addresses of fresh identities.
  const zk: ZkContracts = { IssuerRegistry: c.IssuerRegistry.address, StudyRegistry: studies, EligibilityVerifier: c.EligibilityVerifier.address, ConsentToken: consent };
  const zkCtx = (privateKey: Hex) => ({ wallet: walletClientFor(anvil.rpcUrl, CHAIN, privateKey), client, contracts: zk });
  const issuer = issuerKeyFromSecret(enc('market bench issuer'));
  await addIssuer(zkCtx(deployer.privateKey), issuer.publicKey);
  const { leaves } = await readIssuerLeaves(client, zk, { fromBlock: BigInt(deployment.startBlock) });
  const participant = async (i: number) => {
    const secret = identitySecretFromSeed(enc(`market bench participant ${i}`));
    const key = studyAccountKey(secret, 1n);
    const account = privateKeyToAccount(key);
    const time = Number((await client.getBlock()).timestamp);
    const credential = signCredential(issuer, {
      attributes: { birthDate: `1970-01-0${i + 1}`, sex: 'female', smoker: 'never', conditions: [], measures: {} },
      identityCommitment: identityCommitment(secret),
      issuedAt: time - DAY,
      expiresAt: time + 365 * DAY,
    });
    const proof = await proveEligibility({ credential, secret, criteria: CRITERIA, studyId: 1n, recipient: account.address, issuerLeaves: leaves, time, artifacts: zkFiles });
    return { key, account, proof };
  };
  const extractHash = (i: number) => keccak256(toHex(`market bench extract ${i}`));
  const fund = async (to: Address) => {
    const hash = await walletClientFor(anvil.rpcUrl, CHAIN, deployer.privateKey).sendTransaction({ to, value: parseEther('1'), chain: null });
    await client.waitForTransactionReceipt({ hash });
  };
  const enrollDirect = async (i: number) => {
    const p = await participant(i);
    await fund(p.account.address);
    const result = await enroll(zkCtx(p.key), 1n, p.proof, extractHash(i));
    return { gas: Number((await client.getTransactionReceipt({ hash: result.hash })).gasUsed), proof: p.proof };
  };
  await enrollDirect(0); // the study's first enrollment through the registry: unmeasured
  const direct = await enrollDirect(1);

  // The same through the relayer: the per-study address signs, holds no ether; the relayer (the minter's account, idle by now) pays.
  const relayer = createRelayer({ rpcUrl: anvil.rpcUrl, chainId: CHAIN, privateKey: minter.privateKey, forwarder: c.Forwarder.address, allow: defaultAllowList(c) });
  const gasless = await participant(2);
  const request = await signForwardRequest(gasless.account, { client, address: c.Forwarder.address }, {
    to: studies,
    data: encodeFunctionData({ abi: studyRegistryAbi, functionName: 'enroll', args: [1n, eligibilityProofArgs(gasless.proof), extractHash(2)] }),
    gas: 1_000_000n,
    deadline: Number((await client.getBlock()).timestamp) + 600,
  });
  const relayed = await relayer.relay({ request: forwardRequestToJson(request) });
  if (!('hash' in relayed.body) || relayed.body.status !== 'success') throw new Error(`the relayed enrollment failed: ${JSON.stringify(relayed.body)}`);
  const relayedGas = Number((await client.getTransactionReceipt({ hash: relayed.body.hash })).gasUsed);
  const enrolled = await client.readContract({ address: studies, abi: studyRegistryAbi, functionName: 'isEnrolled', args: [1n, gasless.account.address] });
  if (!enrolled || (await client.getBalance({ address: gasless.account.address })) !== 0n) throw new Error('the relayed enrollment did not enroll the per-study address gaslessly');

  // The Groth16 check alone, on the verifier the deployment uses (it answers false, not a revert, for a bad proof).
  const p = direct.proof.proof;
  const verifyData = encodeFunctionData({
    abi: groth16VerifierAbi,
    functionName: 'verifyProof',
    args: [
      [p[0]!, p[1]!],
      [
        [p[2]!, p[3]!],
        [p[4]!, p[5]!],
      ],
      [p[6]!, p[7]!],
      publicSignalsOf(direct.proof) as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint],
    ],
  });
  const groth16 = c.EligibilityGroth16Verifier.address;
  const { data: answer } = await client.call({ to: groth16, data: verifyData, gas: ZK_GAS.enroll });
  if (answer === undefined || BigInt(answer) !== 1n) throw new Error('the deployed Groth16 verifier rejects the enrollment proof');
  const verifyHash = await walletClientFor(anvil.rpcUrl, CHAIN, deployer.privateKey).sendTransaction({ to: groth16, data: verifyData, gas: ZK_GAS.enroll, chain: null });
  const verifyGas = Number((await client.waitForTransactionReceipt({ hash: verifyHash })).gasUsed);

  console.log(`market.enroll_gas: ${direct.gas} gas`);
  console.log(`market.enroll_relayed_gas: ${relayedGas} gas`);
  console.log(`market.enroll_verify_gas: ${verifyGas} gas`);
  if (spread >= 0.05) throw new Error(`purchase gas grows with the cohort: ${small.gas} (10) vs ${large.gas} (1,000)`);
} finally {
  await anvil.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0); // snarkjs's worker threads keep Node alive otherwise
