/**
 * The research market's client (docs/decisions/023): the test token's faucet (local chain only),
 * a researcher's purchase of a study's active cohort (approve, then purchase), the committee's
 * confirmation with EIP-712 signatures, the refund after the deadline, and a holder's claim, sent
 * directly or signed by the per-study address and relayed (decision 024). Like ../zk/chain.ts,
 * every transaction is simulated first so a refusal comes back in the contract's words before
 * anyone pays, and is sent with an explicit gas limit.
 */
import {
  encodeFunctionData,
  getAddress,
  parseEventLogs,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { studyMarketAbi, studyRegistryAbi, testTokenAbi } from '../abi/generated.ts';
import { ActionRefusedError, ALL_ABIS, describeRevert, revertOf, type ActionResult } from '../access/actions.ts';
import { ConsentryError } from '../errors.ts';
import { relay, signForwardRequest } from './forwarder.ts';

export interface MarketContracts {
  StudyMarket: Address;
  StudyRegistry: Address;
  /** The local chain's tUSD (faucet only). */
  TestToken?: Address;
  /** The ERC-2771 forwarder (relayed claims only). */
  Forwarder?: Address;
}

export interface MarketContext {
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  client: PublicClient;
  contracts: MarketContracts;
  /** Receipt wait limit (default 120 s). */
  timeoutMs?: number;
}

/** Explicit gas limits, margins over the figures of decision 023 (purchase 162k, confirm 68k, claim 92k). */
export const MARKET_GAS = {
  faucet: 120_000n,
  approve: 80_000n,
  purchase: 400_000n,
  // Signature recovery per member: the margin covers a committee of up to 16.
  confirm: 600_000n,
  refund: 150_000n,
  claim: 250_000n,
} as const;

/** The EIP-712 type the committee signs (IStudyMarket.confirm). */
export const CONFIRM_TYPES = {
  Confirm: [
    { name: 'purchaseId', type: 'uint256' },
    { name: 'studyId', type: 'uint256' },
    { name: 'buyer', type: 'address' },
    { name: 'releaseHash', type: 'bytes32' },
  ],
} as const;

export const PURCHASE_STATUSES = ['None', 'Pending', 'Confirmed', 'Refunded'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

export interface PurchaseOnChain {
  purchaseId: bigint;
  studyId: bigint;
  buyer: Address;
  status: PurchaseStatus;
  cohort: number;
  createdAt: bigint;
  deadline: bigint;
  token: Address;
  pricePerParticipant: bigint;
  amount: bigint;
}

async function send(ctx: MarketContext, address: Address, abi: Abi, functionName: keyof typeof MARKET_GAS, args: readonly unknown[]): Promise<ActionResult> {
  const account = ctx.wallet.account;
  const gas = MARKET_GAS[functionName];
  try {
    await ctx.client.simulateContract({ address, abi, functionName, args, account, gas } as Parameters<PublicClient['simulateContract']>[0]);
  } catch (err) {
    const words = describeRevert(err);
    if (words) throw new ActionRefusedError(revertOf(err)!.errorName, words);
    throw err;
  }
  const hash = await ctx.wallet.writeContract({ address, abi, functionName, args, account, chain: ctx.wallet.chain ?? null, gas } as Parameters<typeof ctx.wallet.writeContract>[0]);
  return receiptOf(ctx, hash, functionName);
}

async function receiptOf(ctx: Pick<MarketContext, 'client' | 'timeoutMs'>, hash: Hex, what: string): Promise<ActionResult> {
  const receipt = await ctx.client.waitForTransactionReceipt({ hash, timeout: ctx.timeoutMs ?? 120_000 });
  if (receipt.status !== 'success') throw new ActionRefusedError('Reverted', `The ${what} transaction was reverted on chain`, hash);
  const block = await ctx.client.getBlock({ blockNumber: receipt.blockNumber });
  const events = parseEventLogs({ abi: ALL_ABIS, logs: receipt.logs }).map((l) => ({ eventName: l.eventName, args: l.args as Record<string, unknown> }));
  return { hash, blockNumber: receipt.blockNumber, blockTimestamp: block.timestamp, events };
}

const eventArgs = (result: ActionResult, eventName: string): Record<string, unknown> => {
  const e = result.events.find((x) => x.eventName === eventName);
  if (!e) throw new ConsentryError('EVENT_MISSING', `The transaction ${result.hash} emitted no ${eventName}`);
  return e.args;
};

/** Mints test tUSD to `to` (the local chain's TestToken; anyone may call, up to its cap per call). */
export function faucet(ctx: MarketContext, to: Address, amount: bigint): Promise<ActionResult> {
  if (!ctx.contracts.TestToken) throw new ConsentryError('NO_TEST_TOKEN', 'This deployment has no TestToken (it exists on the local chain only)');
  return send(ctx, ctx.contracts.TestToken, testTokenAbi, 'faucet', [to, amount]);
}

/** What buying a study's cohort costs now: the study's price times its active holders, in its token. */
export async function quotePurchase(client: PublicClient, contracts: MarketContracts, studyId: bigint): Promise<{ token: Address; pricePerParticipant: bigint; active: number; amount: bigint }> {
  const [study, active] = await Promise.all([
    client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyOf', args: [studyId] }),
    client.readContract({ address: contracts.StudyMarket, abi: studyMarketAbi, functionName: 'activeCountOf', args: [studyId] }),
  ]);
  return { token: study.paymentToken, pricePerParticipant: study.pricePerParticipant, active, amount: study.pricePerParticipant * BigInt(active) };
}

/**
 * Buys a study's active cohort: approves the market for the quoted amount (when the allowance is
 * short), then purchases. Refused in words below k, with a purchase pending, or for a study not for sale.
 */
export async function purchase(ctx: MarketContext, studyId: bigint): Promise<ActionResult & { purchaseId: bigint; amount: bigint; cohort: number; deadline: bigint }> {
  const quote = await quotePurchase(ctx.client, ctx.contracts, studyId);
  const owner = ctx.wallet.account.address;
  if (quote.amount > 0n) {
    const allowance = await ctx.client.readContract({ address: quote.token, abi: testTokenAbi, functionName: 'allowance', args: [owner, ctx.contracts.StudyMarket] });
    if (allowance < quote.amount) await send(ctx, quote.token, testTokenAbi, 'approve', [ctx.contracts.StudyMarket, quote.amount]);
  }
  const result = await send(ctx, ctx.contracts.StudyMarket, studyMarketAbi, 'purchase', [studyId]);
  const a = eventArgs(result, 'Purchased');
  return { ...result, purchaseId: a.purchaseId as bigint, amount: a.amount as bigint, cohort: Number(a.cohort), deadline: a.deadline as bigint };
}

/** A purchase as stored (undefined when there is no such purchase). */
export async function readPurchase(client: PublicClient, contracts: Pick<MarketContracts, 'StudyMarket'>, purchaseId: bigint): Promise<PurchaseOnChain | undefined> {
  const p = await client.readContract({ address: contracts.StudyMarket, abi: studyMarketAbi, functionName: 'purchaseOf', args: [purchaseId] });
  const status = PURCHASE_STATUSES[p.status];
  if (!status) throw new ConsentryError('PURCHASE_STATUS_UNKNOWN', `Purchase #${purchaseId} has status ${p.status}, which this sdk does not know`);
  if (status === 'None') return undefined;
  return {
    purchaseId,
    studyId: p.studyId,
    buyer: p.buyer,
    status,
    cohort: Number(p.cohort),
    createdAt: p.createdAt,
    deadline: p.deadline,
    token: p.token,
    pricePerParticipant: p.pricePerParticipant,
    amount: p.amount,
  };
}

/** The EIP-712 domain of the market ("Consentry StudyMarket", "1"). */
export async function marketDomain(client: PublicClient, market: Address) {
  return { name: 'Consentry StudyMarket', version: '1', chainId: await client.getChainId(), verifyingContract: getAddress(market) } as const;
}

/** A committee member's signature over Confirm(purchaseId, studyId, buyer, releaseHash). */
export async function signConfirm(
  member: LocalAccount,
  client: PublicClient,
  market: Address,
  message: { purchaseId: bigint; studyId: bigint; buyer: Address; releaseHash: Hex },
): Promise<{ signer: Address; signature: Hex }> {
  const signature = await member.signTypedData({ domain: await marketDomain(client, market), types: CONFIRM_TYPES, primaryType: 'Confirm', message });
  return { signer: member.address, signature };
}

/** Orders signatures by ascending signer address, as the market requires. */
export const sortSignatures = (sigs: readonly { signer: Address; signature: Hex }[]): Hex[] =>
  [...sigs].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : BigInt(a.signer) > BigInt(b.signer) ? 1 : 0)).map((s) => s.signature);

/** Confirms a pending purchase with the members' signatures (any order: they are sorted here). Anyone may submit. */
export async function confirmPurchase(
  ctx: MarketContext,
  purchaseId: bigint,
  releaseHash: Hex,
  signatures: readonly { signer: Address; signature: Hex }[],
): Promise<ActionResult & { rewardPerToken: bigint }> {
  const result = await send(ctx, ctx.contracts.StudyMarket, studyMarketAbi, 'confirm', [purchaseId, releaseHash, sortSignatures(signatures)]);
  return { ...result, rewardPerToken: eventArgs(result, 'PurchaseConfirmed').rewardPerToken as bigint };
}

/** Refunds a pending purchase after its deadline, to its buyer. Anyone may call. */
export async function refund(ctx: MarketContext, purchaseId: bigint): Promise<ActionResult & { amount: bigint }> {
  const result = await send(ctx, ctx.contracts.StudyMarket, studyMarketAbi, 'refund', [purchaseId]);
  return { ...result, amount: eventArgs(result, 'PurchaseRefunded').amount as bigint };
}

/** What `holder` could claim now in a study. */
export function claimable(client: PublicClient, contracts: Pick<MarketContracts, 'StudyMarket'>, studyId: bigint, holder: Address): Promise<bigint> {
  return client.readContract({ address: contracts.StudyMarket, abi: studyMarketAbi, functionName: 'claimable', args: [studyId, holder] });
}

/** Active holders of a study as the market has checkpointed them. */
export function activeCount(client: PublicClient, contracts: Pick<MarketContracts, 'StudyMarket'>, studyId: bigint): Promise<number> {
  return client.readContract({ address: contracts.StudyMarket, abi: studyMarketAbi, functionName: 'activeCountOf', args: [studyId] });
}

/** The wallet's earnings in a study, paid to `to` (any address). The wallet pays the gas. */
export async function claim(ctx: MarketContext, studyId: bigint, to: Address): Promise<ActionResult & { amount: bigint }> {
  const result = await send(ctx, ctx.contracts.StudyMarket, studyMarketAbi, 'claim', [studyId, to]);
  return { ...result, amount: eventArgs(result, 'Claimed').amount as bigint };
}

/**
 * A gasless claim: `holder` (the per-study address, which holds no ether) signs a forward request
 * for claim(studyId, to) and the relayer at `relayerUrl` sends it. Checked against the market first,
 * as the holder, so a claim of nothing is refused in words before the relayer is asked.
 */
export async function claimRelayed(
  ctx: Pick<MarketContext, 'client' | 'contracts' | 'timeoutMs'>,
  holder: LocalAccount,
  relayerUrl: string,
  studyId: bigint,
  to: Address,
  opts: { deadline?: number; fetch?: typeof fetch } = {},
): Promise<ActionResult & { amount: bigint }> {
  const forwarder = ctx.contracts.Forwarder;
  if (!forwarder) throw new ConsentryError('NO_FORWARDER', 'This deployment has no Forwarder, so claims cannot be relayed');
  try {
    await ctx.client.simulateContract({ address: ctx.contracts.StudyMarket, abi: studyMarketAbi, functionName: 'claim', args: [studyId, to], account: holder.address });
  } catch (err) {
    const words = describeRevert(err);
    if (words) throw new ActionRefusedError(revertOf(err)!.errorName, words);
    throw err;
  }
  const now = Number((await ctx.client.getBlock({ blockTag: 'latest' })).timestamp);
  const request = await signForwardRequest(holder, { client: ctx.client, address: forwarder }, {
    to: ctx.contracts.StudyMarket,
    data: encodeFunctionData({ abi: studyMarketAbi, functionName: 'claim', args: [studyId, to] }),
    gas: MARKET_GAS.claim,
    deadline: opts.deadline ?? now + 3600,
  });
  const sent = await relay(relayerUrl, request, { fetch: opts.fetch, timeoutMs: ctx.timeoutMs });
  const result = await receiptOf(ctx, sent.hash, 'relayed claim');
  return { ...result, amount: eventArgs(result, 'Claimed').amount as bigint };
}
