// The market client on a real anvil chain with the deployed contracts: the faucet, a purchase refused
// below k in words, approve + purchase, a confirmation by 2 of 3 committee members (signatures given
// in any order), claimable, a gasless claim through the real relayer by a holder without ether, a
// claim of nothing refused before the relayer is asked, and a refund after the deadline. Consent
// tokens are minted directly (a MINTER_ROLE granted for the test): enrollment with proofs is
// chain.test.ts's and scripted-run.test.ts's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { x25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { defaultAllowList } from '../relayer/main.ts';
import { createRelayer } from '../relayer/relayer.ts';
import { startRelayerServer, type RelayerServer } from '../relayer/server.ts';
import { consentTokenAbi, organizationRegistryAbi, releaseCommitteeAbi, studyRegistryAbi, testTokenAbi } from '@consentry/sdk/abi/generated';
import { ActionRefusedError } from '@consentry/sdk/access/actions';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { activeCount, claimable, claimRelayed, confirmPurchase, faucet, purchase, readPurchase, refund, signConfirm, type MarketContext, type MarketContracts } from '@consentry/sdk/research/market';

const CHAIN = 31337;
const DAY = 86_400;
const PRICE = 5_000_000n; // 5 tUSD
const IRB_KIND = 4;
const acct = (i: number) => ANVIL_ACCOUNTS[i]!;
const [deployer, researcher, irb, minter, relayerAccount] = [acct(0), acct(1), acct(2), acct(3), acct(8)];
const members = [4, 5, 6].map((i) => privateKeyToAccount(ANVIL_ACCOUNTS[i]!.privateKey));
// Per-study addresses: fresh keys with no ether.
const holders = [0, 1, 2, 3].map((i) => privateKeyToAccount(keccak256(toHex(`market test holder ${i}`))));

let anvil: AnvilInstance;
let dir: string;
let contracts: MarketContracts;
let consent: Address;
let server: RelayerServer;
const client = () => publicClientFor(anvil.rpcUrl, CHAIN);
const ctx = (who: { privateKey: Hex }): MarketContext => ({ wallet: walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey), client: client(), contracts });

async function write(who: { privateKey: Hex }, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) {
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey);
  const hash = await wallet.writeContract({ address, abi, functionName, args, gas: 1_000_000n, chain: null } as Parameters<typeof wallet.writeContract>[0]);
  const r = await client().waitForTransactionReceipt({ hash });
  if (r.status !== 'success') throw new Error(`${functionName} reverted`);
}

async function refusal(p: Promise<unknown>): Promise<ActionRefusedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ActionRefusedError);
  return err as ActionRefusedError;
}

async function mint(holder: Address) {
  const now = (await client().getBlock()).timestamp;
  await write(minter, consent, consentTokenAbi, 'mint', [holder, 1n, now + BigInt(180 * DAY)]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-market-'));
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = d.contracts;
  contracts = { StudyMarket: c.StudyMarket!.address, StudyRegistry: c.StudyRegistry!.address, TestToken: c.TestToken!.address, Forwarder: c.Forwarder!.address };
  consent = c.ConsentToken!.address;
  for (const [i, m] of members.entries()) {
    const key = bytesToHex(x25519.getPublicKey(keccak256(toHex(`market test member ${i}`), 'bytes')));
    await write(deployer, c.ReleaseCommittee!.address, releaseCommitteeAbi, 'addMember', [m.address, key, i === 0 ? 1 : 2]);
  }
  const orgs = c.OrganizationRegistry!.address;
  await write(irb, orgs, organizationRegistryAbi, 'register', [IRB_KIND, keccak256(toHex('market test irb')), keccak256(toHex('metadata'))]);
  const now = Number((await client().getBlock()).timestamp);
  await write(deployer, orgs, organizationRegistryAbi, 'accredit', [irb.address, BigInt(now + 365 * DAY)]);
  await write(researcher, contracts.StudyRegistry, studyRegistryAbi, 'createStudy', [
    {
      metadataHash: keccak256(toHex('market test study')),
      protocolHash: keccak256(toHex('protocol')),
      consentHash: keccak256(toHex('consent')),
      criteriaHash: 12345n,
      categories: 5n,
      paymentToken: contracts.TestToken!,
      pricePerParticipant: PRICE,
      consentDuration: BigInt(180 * DAY),
      minCohort: 3,
      maxParticipants: 100,
    },
  ]);
  await write(irb, contracts.StudyRegistry, studyRegistryAbi, 'approve', [1n, keccak256(toHex('rationale'))]);
  const minterRole = await client().readContract({ address: consent, abi: consentTokenAbi, functionName: 'MINTER_ROLE' });
  await write(deployer, consent, consentTokenAbi, 'grantRole', [minterRole, minter.address]);
  server = await startRelayerServer(createRelayer({ rpcUrl: anvil.rpcUrl, chainId: CHAIN, privateKey: relayerAccount.privateKey, forwarder: contracts.Forwarder!, allow: defaultAllowList(c) }));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('market client (real chain, deployed StudyMarket, real relayer)', () => {
  it('buys, confirms with 2 of 3 signatures, pays holders through a relayed claim, refunds after the deadline', async () => {
    const balance = () => client().readContract({ address: contracts.TestToken!, abi: testTokenAbi, functionName: 'balanceOf', args: [researcher.address] });
    await faucet(ctx(researcher), researcher.address, 100_000_000n);
    expect(await balance()).toBe(100_000_000n);

    await mint(holders[0]!.address);
    await mint(holders[1]!.address);
    expect(await activeCount(client(), contracts, 1n)).toBe(2);
    const small = await refusal(purchase(ctx(researcher), 1n));
    expect(small.errorName).toBe('StudyMarket__CohortTooSmall');

    await mint(holders[2]!.address);
    const bought = await purchase(ctx(researcher), 1n);
    expect(bought.purchaseId).toBe(1n);
    expect(bought.amount).toBe(3n * PRICE);
    expect(bought.cohort).toBe(3);
    expect(await balance()).toBe(100_000_000n - 3n * PRICE);
    const p = await readPurchase(client(), contracts, bought.purchaseId);
    expect(p).toMatchObject({ studyId: 1n, buyer: researcher.address, status: 'Pending', cohort: 3, amount: 15_000_000n });
    expect(await readPurchase(client(), contracts, 99n)).toBeUndefined();

    // A holder that joins while the purchase is pending earns nothing from it.
    await mint(holders[3]!.address);
    const releaseHash = keccak256(toHex('release of purchase 1'));
    const message = { purchaseId: 1n, studyId: 1n, buyer: researcher.address, releaseHash };
    // One signature is below the threshold of 2.
    const one = await refusal(confirmPurchase(ctx(deployer), 1n, releaseHash, [await signConfirm(members[2]!, client(), contracts.StudyMarket, message)]));
    expect(one.errorName).toBe('StudyMarket__NotEnoughSignatures');
    // Signatures in descending order are sorted by the client.
    const sigs = [await signConfirm(members[2]!, client(), contracts.StudyMarket, message), await signConfirm(members[0]!, client(), contracts.StudyMarket, message)];
    const confirmed = await confirmPurchase(ctx(deployer), 1n, releaseHash, sigs);
    expect(confirmed.rewardPerToken).toBe(PRICE);
    expect((await readPurchase(client(), contracts, 1n))!.status).toBe('Confirmed');
    for (const h of holders.slice(0, 3)) expect(await claimable(client(), contracts, 1n, h.address)).toBe(PRICE);
    expect(await claimable(client(), contracts, 1n, holders[3]!.address)).toBe(0n);

    // A gasless claim: the holder has no ether; the relayer sends it; the tokens go where the holder says.
    const payee = privateKeyToAccount(keccak256(toHex('market test payee'))).address;
    expect(await client().getBalance({ address: holders[0]!.address })).toBe(0n);
    const claimed = await claimRelayed(ctx(deployer), holders[0]!, server.url, 1n, payee);
    expect(claimed.amount).toBe(PRICE);
    expect(await client().readContract({ address: contracts.TestToken!, abi: testTokenAbi, functionName: 'balanceOf', args: [payee] })).toBe(PRICE);
    expect(await claimable(client(), contracts, 1n, holders[0]!.address)).toBe(0n);
    const nothing = await refusal(claimRelayed(ctx(deployer), holders[3]!, server.url, 1n, payee));
    expect(nothing.errorName).toBe('StudyMarket__NothingToClaim');

    // A purchase nobody confirms: no refund before the deadline, the whole amount after it.
    const second = await purchase(ctx(researcher), 1n);
    expect(second.amount).toBe(4n * PRICE);
    const early = await refusal(refund(ctx(deployer), second.purchaseId));
    expect(early.errorName).toBe('StudyMarket__DeadlineNotPassed');
    const before = await balance();
    await client().request({ method: 'evm_increaseTime' as never, params: [DAY + 1] as never });
    await client().request({ method: 'evm_mine' as never, params: [] as never });
    const refunded = await refund(ctx(deployer), second.purchaseId);
    expect(refunded.amount).toBe(4n * PRICE);
    expect(await balance()).toBe(before + 4n * PRICE);
    expect((await readPurchase(client(), contracts, second.purchaseId))!.status).toBe('Refunded');
  }, 120_000);
});
