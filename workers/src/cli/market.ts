/**
 * The researcher's side of the research market (docs/decisions/023, 026, 029): list the studies,
 * buy a study's active cohort, have the committee's gateways release it and write the extracts
 * as FHIR, ask again for a purchase already made, and take the refund after the deadline.
 * Nothing is lost when `buy` stops half-way: the purchase id is printed as soon as it is paid, and
 * `release` fetches the same extracts with the same wallet (the buyer's X25519 key is derived from
 * it exactly as a patient's is).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { erc20Abi, formatUnits, getAddress, type Address, type Hex, type PublicClient } from 'viem';
import { studyMarketAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { ActionRefusedError } from '@consentry/sdk/access/actions';
import { probeGateways, readCommittee, type GatewayRef } from '@consentry/sdk/access/release';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { assertChain, publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { loadConfig, type Config } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { activeCount, faucet, purchase, quotePurchase, readPurchase, refund, type MarketContext, type MarketContracts, type PurchaseOnChain } from '@consentry/sdk/research/market';
import { gatewayCiphertexts, openPurchasedExtracts, requestPurchaseRelease, type ReleaseContracts } from '@consentry/sdk/research/purchase-release';
import { extractBundle } from '@consentry/sdk/research/seal-extract';
import { readStudy } from '@consentry/sdk/zk/chain';
import { readStudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { parseGatewayUrls } from '../indexer/releases.ts';
import { UsageError } from './command.ts';
import { KEY_OPTIONS, privateKeyFrom } from './context.ts';

/** The first port `npm start` gives a release gateway on the local chain (scripts/stack.ts: 4360 + i). */
const STACK_GATEWAY_PORT = 4360;

interface Market {
  config: Config;
  client: PublicClient;
  contracts: MarketContracts & ReleaseContracts & { ReleaseCommittee: Address };
  /** The deployment's first block: where the market's events are read from. */
  fromBlock: bigint;
}

/** The configuration, the deployment's market contracts and a client of a chain that answers with CHAIN_ID. */
async function openMarket(): Promise<Market> {
  const config = loadConfig();
  const deployment = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR);
  const c = deployment.contracts;
  if (!c.StudyMarket || !c.StudyRegistry || !c.ConsentToken || !c.ReleaseCommittee) {
    throw new ConsentryError('NO_MARKET', `The deployment of chain ${config.CHAIN_ID} has no research market (StudyMarket, StudyRegistry, ConsentToken and ReleaseCommittee)`);
  }
  await assertChain(config.RPC_URL, config.CHAIN_ID);
  return {
    config,
    client: publicClientFor(config.RPC_URL, config.CHAIN_ID, { retryCount: 1 }) as PublicClient,
    contracts: {
      StudyMarket: c.StudyMarket.address,
      StudyRegistry: c.StudyRegistry.address,
      ConsentToken: c.ConsentToken.address,
      ReleaseCommittee: c.ReleaseCommittee.address,
      ...(c.TestToken ? { TestToken: c.TestToken.address } : {}),
    },
    fromBlock: BigInt(deployment.startBlock),
  };
}

function buyerContext(market: Market, values: { 'key-file'?: string; 'dev-account'?: string }): MarketContext {
  const wallet = walletClientFor(market.config.RPC_URL, market.config.CHAIN_ID, privateKeyFrom(values, market.config));
  return { wallet, client: market.client, contracts: market.contracts };
}

function idFrom(given: string | undefined, what: 'study' | 'purchase', command: string): bigint {
  if (given === undefined) throw new UsageError(`Name the ${what}: its number (\`consentry ${command} <${what}Id>\`)`);
  if (!/^[1-9]\d{0,30}$/.test(given)) throw new UsageError(`"${given}" is not a ${what} id (a whole number from 1)`);
  return BigInt(given);
}

interface Token {
  address: Address;
  symbol: string;
  decimals: number;
}

/** The token's symbol and decimals; a token that does not answer them is shown by its address, in base units. */
async function tokenOf(client: PublicClient, address: Address): Promise<Token> {
  try {
    const [symbol, decimals] = await Promise.all([
      client.readContract({ address, abi: erc20Abi, functionName: 'symbol' }),
      client.readContract({ address, abi: erc20Abi, functionName: 'decimals' }),
    ]);
    return { address, symbol, decimals };
  } catch {
    return { address, symbol: `units of ${address}`, decimals: 0 };
  }
}

const money = (amount: bigint, token: Token) => `${formatUnits(amount, token.decimals)} ${token.symbol}`;
const when = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

// ---------------------------------------------------------------------------------------------
// consentry studies

interface ListedStudy {
  id: string;
  status: string;
  title: string | null;
  researcher: Address;
  pricePerParticipant: string;
  token: Token;
  active: number;
  k: number;
  maxParticipants: number;
}

async function titleOf(store: Pick<BlobStore, 'get'> | null, metadataHash: Hex): Promise<string | null> {
  if (!store) return null;
  try {
    return (await readStudyMetadata(store, metadataHash)).title;
  } catch {
    return null; // not in this store (or altered): the listing goes on without it
  }
}

export async function runStudies(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  const market = await openMarket();
  const { client, contracts } = market;
  const store = await blobStoreFromEnv({ ...process.env, DATA_DIR: market.config.DATA_DIR }).catch(() => null);
  const count = await client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyCount' });
  const tokens = new Map<string, Promise<Token>>();
  const studies: ListedStudy[] = [];
  for (let id = 1n; id <= count; id++) {
    const s = await readStudy(client, contracts, id);
    if (!s) continue;
    const key = s.paymentToken.toLowerCase();
    if (!tokens.has(key)) tokens.set(key, tokenOf(client, s.paymentToken));
    const [token, active, title] = await Promise.all([tokens.get(key)!, activeCount(client, contracts, id), titleOf(store, s.metadataHash)]);
    studies.push({
      id: id.toString(),
      status: s.status,
      title,
      researcher: s.researcher,
      pricePerParticipant: s.pricePerParticipant.toString(),
      token,
      active,
      k: s.minCohort,
      maxParticipants: s.maxParticipants,
    });
  }
  if (values.json) {
    console.log(JSON.stringify(studies, null, 2));
    return;
  }
  if (studies.length === 0) {
    console.log('studies: none registered yet');
    return;
  }
  for (const s of studies) {
    const price = money(BigInt(s.pricePerParticipant), s.token);
    console.log(`#${s.id}  ${s.status.padEnd(9)}  ${price} per participant  ${s.active} active (k = ${s.k})  ${s.title ?? '(no description in the store)'}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The release: the committee's gateways, the buyer's key, the files

/** GATEWAY_URLS, or the gateways `npm start` runs for the local committee; which were used is printed. */
function gatewayUrls(members: number): string[] {
  const given = parseGatewayUrls(process.env.GATEWAY_URLS);
  for (const url of given) if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`GATEWAY_URLS: ${JSON.stringify(url)} is not an http(s) URL`);
  if (given.length > 0) return given.map((u) => u.replace(/\/+$/, ''));
  const defaults = Array.from({ length: members }, (_, i) => `http://127.0.0.1:${STACK_GATEWAY_PORT + i}`);
  console.log(`gateways: GATEWAY_URLS is unset; using the local stack's ${defaults.join(', ')}`);
  return defaults;
}

/** Each gateway's member, from its GET /health; a gateway that does not answer, or is not on the committee, is set aside with why. */
async function reachGateways(urls: readonly string[], members: ReadonlySet<string>): Promise<{ refs: GatewayRef[]; down: string[] }> {
  const probed = await probeGateways(urls);
  const strangers = probed.refs.filter((r) => !members.has(r.member.toLowerCase()));
  return {
    refs: probed.refs.filter((r) => members.has(r.member.toLowerCase())),
    down: [...probed.down, ...strangers.map((r) => `${r.url}: ${r.member} is not on the release committee`)],
  };
}

/** The transaction that confirmed a purchase (null while it is pending). */
async function confirmationTx(market: Market, purchaseId: bigint): Promise<Hex | null> {
  const events = await market.client.getContractEvents({
    address: market.contracts.StudyMarket,
    abi: studyMarketAbi,
    eventName: 'PurchaseConfirmed',
    args: { purchaseId },
    fromBlock: market.fromBlock,
    toBlock: 'latest',
  });
  return events[0]?.transactionHash ?? null;
}

/** Writes a file whole or not at all. */
function writeWhole(path: string, text: string): void {
  writeFileSync(`${path}.partial`, text);
  renameSync(`${path}.partial`, path);
}

/**
 * Asks the committee for a purchase (confirming it on chain first while it is pending), opens the
 * extracts with the wallet's derived key and writes them under <out>/purchase-<id>/.
 */
async function releaseAndWrite(market: Market, ctx: MarketContext, bought: PurchaseOnChain, out: string): Promise<void> {
  const { client, contracts, config } = market;
  const purchaseId = bought.purchaseId;
  const committee = await readCommittee(client, contracts.ReleaseCommittee);
  if (committee.members.length === 0) throw new ConsentryError('NO_COMMITTEE', 'The release committee has no members');
  const { refs, down } = await reachGateways(gatewayUrls(committee.members.length), new Set(committee.members.map((m) => m.id)));
  if (refs.length < committee.threshold) {
    throw new ConsentryError('COMMITTEE_SHORT', `Only ${refs.length} of the gateways answered, and the release needs ${committee.threshold} committee members (${down.join('; ')})`);
  }
  console.log(`release: asking ${refs.length} gateway(s) (k = ${committee.threshold} of ${committee.members.length})${down.length ? `; not answering: ${down.join('; ')}` : ''}`);

  const buyer = ctx.wallet.account.address;
  const keys = deriveEncryptionKeyPair(await ctx.wallet.signTypedData(keyDerivationTypedData(config.CHAIN_ID)));
  try {
    const stages = {
      signatures: (m: number) => `release: ${m} committee members signed the confirmation`,
      confirmed: () => `release: purchase #${purchaseId} confirmed on chain (the escrow is now the cohort's)`,
      released: (m: number) => `release: ${m} committee members released their shares`,
    };
    const released = await requestPurchaseRelease({
      ctx,
      gateways: refs,
      purchaseId,
      buyerKey: keys.publicKey,
      threshold: committee.threshold,
      onProgress: (stage, { members }) => console.log(stages[stage](members)),
    });
    const extracts = await openPurchasedExtracts({
      buyer,
      buyerSecretKey: keys.secretKey,
      purchaseId,
      studyId: bought.studyId,
      threshold: committee.threshold,
      released: released.released,
      store: gatewayCiphertexts(refs),
    });
    extracts.sort((a, b) => (a.extractHash < b.extractHash ? -1 : a.extractHash > b.extractHash ? 1 : 0));
    const token = await tokenOf(client, bought.token);
    const dir = join(out, `purchase-${purchaseId}`);
    const written = writePurchase(dir, extracts, {
      studyId: bought.studyId.toString(),
      purchaseId: purchaseId.toString(),
      buyer,
      amount: bought.amount.toString(),
      token,
      releaseHash: released.releaseHash,
      confirmationTx: released.confirmation ?? (await confirmationTx(market, purchaseId)),
    });
    console.log(`release: wrote ${extracts.length} extracts with ${written} resources (${money(bought.amount, token)}) to ${dir}`);
  } finally {
    keys.secretKey.fill(0);
  }
}

/** dataset.ndjson (every resource, one per line), extract-<n>.json (each extract's Bundle), manifest.json. Returns the resource count. */
function writePurchase(dir: string, extracts: readonly { extractHash: Hex; resources: FhirResource[] }[], manifest: Record<string, unknown>): number {
  mkdirSync(dir, { recursive: true });
  extracts.forEach((e, i) => writeWhole(join(dir, `extract-${i + 1}.json`), `${JSON.stringify(extractBundle(e.resources), null, 2)}\n`));
  const lines = extracts.flatMap((e) => e.resources.map((r) => JSON.stringify(r)));
  writeWhole(join(dir, 'dataset.ndjson'), lines.length ? `${lines.join('\n')}\n` : '');
  const listed = extracts.map((e) => ({ extractHash: e.extractHash, resources: e.resources.length }));
  writeWhole(join(dir, 'manifest.json'), `${JSON.stringify({ ...manifest, extracts: listed }, null, 2)}\n`);
  return lines.length;
}

/** A release that failed leaves a paid purchase: say how to get it (or the money) back. */
function withRetryHint(err: unknown, p: PurchaseOnChain, out: string): ConsentryError {
  const base = err instanceof ConsentryError ? err : new ConsentryError('RELEASE_FAILED', err instanceof Error ? err.message : String(err));
  const lines = [`${base.message}`, `Purchase #${p.purchaseId} is paid; nothing is lost: run \`consentry release ${p.purchaseId} --out ${out}\` to try again`];
  if (p.status === 'Pending') lines.push(`(it must be confirmed by ${when(p.deadline)}; after the deadline, \`consentry refund ${p.purchaseId}\` returns what was paid)`);
  return new ConsentryError(base.code, lines.join('\n'), { cause: err });
}

// ---------------------------------------------------------------------------------------------
// consentry buy / release / refund

export async function runBuy(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...KEY_OPTIONS, out: { type: 'string' }, faucet: { type: 'boolean' }, yes: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const studyId = idFrom(positionals[0], 'study', 'buy');
  if (!values.out) throw new UsageError('Name the folder the extracts go to: --out <dir>');
  const market = await openMarket();
  if (values.faucet && market.config.CHAIN_ID !== 31337) throw new UsageError(`--faucet is only for the local chain (CHAIN_ID 31337, not ${market.config.CHAIN_ID})`);
  const ctx = buyerContext(market, values);
  const buyer = ctx.wallet.account.address;
  const study = await readStudy(market.client, market.contracts, studyId);
  if (!study) throw new ConsentryError('STUDY_UNKNOWN', `There is no study #${studyId}`);

  const quote = await quotePurchase(market.client, market.contracts, studyId);
  const token = await tokenOf(market.client, quote.token);
  console.log(`quote: study #${studyId} (${study.status}): ${money(quote.pricePerParticipant, token)} × ${quote.active} active participants = ${money(quote.amount, token)} (k = ${study.minCohort})`);
  if (!values.yes) {
    console.log(`buy: nothing spent; run again with --yes to buy as ${buyer}`);
    return;
  }
  if (values.faucet && quote.amount > 0n) {
    const minted = await faucet(ctx, buyer, quote.amount);
    console.log(`faucet: minted ${money(quote.amount, token)} to ${buyer} (tx ${minted.hash})`);
  }
  const balance = await market.client.readContract({ address: quote.token, abi: erc20Abi, functionName: 'balanceOf', args: [buyer] });
  if (balance < quote.amount) {
    const hint = market.config.CHAIN_ID === 31337 ? '; on the local chain, add --faucet' : '';
    throw new ConsentryError('BALANCE_SHORT', `${buyer} holds ${money(balance, token)}, less than the ${money(quote.amount, token)} the purchase costs${hint}`);
  }

  const paid = await purchase(ctx, studyId);
  console.log(`purchase #${paid.purchaseId}: paid ${money(paid.amount, token)} for ${paid.cohort} participants (tx ${paid.hash}); the committee must confirm by ${when(paid.deadline)}`);
  const bought = await readPurchase(market.client, market.contracts, paid.purchaseId);
  if (!bought) throw new ConsentryError('PURCHASE_UNKNOWN', `The chain does not show purchase #${paid.purchaseId}`);
  try {
    await releaseAndWrite(market, ctx, bought, values.out);
  } catch (err) {
    throw withRetryHint(err, (await readPurchase(market.client, market.contracts, paid.purchaseId).catch(() => undefined)) ?? bought, values.out);
  }
}

export async function runRelease(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS, out: { type: 'string' } }, allowPositionals: true, strict: true });
  const purchaseId = idFrom(positionals[0], 'purchase', 'release');
  if (!values.out) throw new UsageError('Name the folder the extracts go to: --out <dir>');
  const market = await openMarket();
  const ctx = buyerContext(market, values);
  const bought = await readPurchase(market.client, market.contracts, purchaseId);
  if (!bought) throw new ConsentryError('PURCHASE_UNKNOWN', `There is no purchase #${purchaseId}`);
  const buyer = ctx.wallet.account.address;
  if (getAddress(bought.buyer) !== buyer) throw new ConsentryError('NOT_THE_BUYER', `Purchase #${purchaseId} was made by ${bought.buyer}, not by this key's ${buyer}`);
  if (bought.status === 'Refunded') throw new ConsentryError('PURCHASE_REFUNDED', `Purchase #${purchaseId} was refunded: nothing is released`);
  console.log(`purchase #${purchaseId}: study #${bought.studyId}, ${bought.cohort} participants, ${bought.status.toLowerCase()}`);
  try {
    await releaseAndWrite(market, ctx, bought, values.out);
  } catch (err) {
    throw withRetryHint(err, (await readPurchase(market.client, market.contracts, purchaseId).catch(() => undefined)) ?? bought, values.out);
  }
}

export async function runRefund(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS }, allowPositionals: true, strict: true });
  const purchaseId = idFrom(positionals[0], 'purchase', 'refund');
  const market = await openMarket();
  const ctx = buyerContext(market, values);
  const bought = await readPurchase(market.client, market.contracts, purchaseId);
  if (!bought) throw new ConsentryError('PURCHASE_UNKNOWN', `There is no purchase #${purchaseId}`);
  const refunded = await refund(ctx, purchaseId);
  const token = await tokenOf(market.client, bought.token);
  console.log(`refund: purchase #${purchaseId} refunded ${money(refunded.amount, token)} to ${bought.buyer} (tx ${refunded.hash})`);
}
