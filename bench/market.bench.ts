/**
 * Gas of the research market's transactions, from real receipts on anvil (the deploy script's
 * StudyRegistry, ConsentToken, ReleaseCommittee, TestToken and StudyMarket). Two approved studies,
 * one with 10 active participants and one with 1,000; each has had one confirmed purchase already,
 * so the figures are those of a market in use (the first purchase of a study also stores its token
 * and the first escrow balance). Cohorts are minted by an account the bench grants MINTER_ROLE
 * (a real enrollment needs a zero-knowledge proof each; market.enroll_gas comes with enrollment).
 *   market.purchase_gas_10     purchase with 10 active participants (escrow pulled, no loop)
 *   market.purchase_gas_1000   the same with 1,000: must be within 5% of the above
 *   market.confirm_gas         confirm with 2 committee signatures (threshold 2 of 3)
 *   market.claim_gas           a holder's first claim (earned from two purchases), to another address
 *   market.revoke_gas          ConsentToken.revoke with the market's hook checkpointing the holder
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { deployContracts } from '../contracts/script/deploy.ts';
import {
  consentTokenAbi,
  organizationRegistryAbi,
  releaseCommitteeAbi,
  studyMarketAbi,
  studyRegistryAbi,
  testTokenAbi,
} from '../sdk/src/abi/generated.ts';
import { publicClientFor, walletClientFor } from '../sdk/src/clients.ts';
import { ANVIL_ACCOUNTS, startAnvil } from '../sdk/src/testing/anvil.ts';

const CHAIN = 31337;
const PRICE = 5_000_000n; // 5 tUSD per participant
const DAY = 24 * 3600;
const IRB_KIND = 4;

const anvil = await startAnvil();
const dir = mkdtempSync(join(tmpdir(), 'consentry-market-bench-'));
try {
  const deployer = ANVIL_ACCOUNTS[0]!;
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = deployment.contracts;
  if (!c.StudyMarket || !c.TestToken || !c.ConsentToken || !c.StudyRegistry || !c.OrganizationRegistry || !c.ReleaseCommittee) {
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
    criteriaHash: 12345n,
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
  if (spread >= 0.05) throw new Error(`purchase gas grows with the cohort: ${small.gas} (10) vs ${large.gas} (1,000)`);
} finally {
  await anvil.stop();
  rmSync(dir, { recursive: true, force: true });
}
