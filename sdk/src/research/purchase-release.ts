/**
 * The committee's release for a purchase (docs/decisions/026-purchase-release.md). For a pending
 * purchase the committee reads, from the chain alone, the cohort it was priced on (the market's
 * HolderJoined / HolderLeft events up to the purchase's block, each still checked with
 * ConsentToken.isActive at that block) and each holder's registered extract hash. Every member
 * fetches its sealed share of each extract from the share store, opens it (the share's header names
 * the study and the extract hash, so a share of anything else is refused), re-seals the Shamir
 * y-values to the buyer's X25519 key bound to the share header, the buyer and the purchase (as the
 * gateways do for a clinical release), and signs Confirm with a releaseHash that commits to the
 * purchase, the buyer's key and the sorted extract hashes. k signatures confirm on chain. The buyer
 * opens the released shares, recovers each extract key and opens each extract (fetched by the hash).
 */
import { encodeAbiParameters, keccak256, pad, toHex, type Address, type Hex, type LocalAccount, type PublicClient } from 'viem';
import { x25519 } from '@noble/curves/ed25519.js';
import { consentTokenAbi, studyMarketAbi, studyRegistryAbi } from '../abi/generated.ts';
import { releaseAssociatedData } from '../access/release.ts';
import { createKeyOpener, createKeySealer } from '../crypto/envelope.ts';
import { createShareOpener, readShareHeader, type OpenedShare, type SealedShare } from '../crypto/shares.ts';
import { ConsentryError } from '../errors.ts';
import type { FhirResource } from '../records/fhir-types.ts';
import { confirmPurchase, readPurchase, signConfirm, type MarketContext, type PurchaseOnChain } from './market.ts';
import { extractShareRecord, openExtract, recoverExtractKey } from './seal-extract.ts';

/**
 * Where the committee's sealed shares of an extract and the extract's ciphertext are kept, by the
 * extract hash registered on chain. In the deployed system it is the blob store (the ciphertext is
 * the blob whose CID is extractCid(hash); the shares a blob next to it); anything that returns the
 * same bytes will do: nothing read from it is trusted (the ciphertext is checked against the hash,
 * a share opens only for its member and names its extract).
 */
export interface ExtractStore {
  ciphertext(extractHash: Hex): Promise<Uint8Array | undefined>;
  shares(extractHash: Hex): Promise<readonly SealedShare[] | undefined>;
}

/** An in-memory ExtractStore (tests, demos). */
export function memoryExtractStore(): ExtractStore & { put(extractHash: Hex, ciphertext: Uint8Array, shares: readonly SealedShare[]): void } {
  const m = new Map<string, { ciphertext: Uint8Array; shares: readonly SealedShare[] }>();
  return {
    put: (h, ciphertext, shares) => void m.set(h.toLowerCase(), { ciphertext, shares }),
    ciphertext: async (h) => m.get(h.toLowerCase())?.ciphertext,
    shares: async (h) => m.get(h.toLowerCase())?.shares,
  };
}

export interface ReleaseContracts {
  StudyMarket: Address;
  StudyRegistry: Address;
  ConsentToken: Address;
}

export interface PurchaseCohort {
  purchase: PurchaseOnChain;
  blockNumber: bigint;
  /** The holders the purchase was priced on, with their registered extract hashes. */
  holders: { holder: Address; extractHash: Hex }[];
}

/** The cohort of a purchase, from the chain: exactly `cohort` holders active at the purchase's block. */
export async function purchaseCohort(client: PublicClient, contracts: ReleaseContracts, purchaseId: bigint, fromBlock = 0n): Promise<PurchaseCohort> {
  const purchase = await readPurchase(client, contracts, purchaseId);
  if (!purchase) throw new ConsentryError('PURCHASE_UNKNOWN', `There is no purchase #${purchaseId}`);
  const bought = await client.getContractEvents({ address: contracts.StudyMarket, abi: studyMarketAbi, eventName: 'Purchased', args: { purchaseId }, fromBlock, toBlock: 'latest' });
  const blockNumber = bought[0]?.blockNumber;
  if (blockNumber === undefined || blockNumber === null) throw new ConsentryError('PURCHASE_EVENT_MISSING', `No Purchased event for #${purchaseId} from block ${fromBlock}`);
  const studyId = purchase.studyId;
  const [joined, left] = await Promise.all([
    client.getContractEvents({ address: contracts.StudyMarket, abi: studyMarketAbi, eventName: 'HolderJoined', args: { studyId }, fromBlock, toBlock: blockNumber }),
    client.getContractEvents({ address: contracts.StudyMarket, abi: studyMarketAbi, eventName: 'HolderLeft', args: { studyId }, fromBlock, toBlock: blockNumber }),
  ]);
  const gone = new Set(left.map((e) => e.args.holder!.toLowerCase()));
  const candidates = joined.map((e) => e.args.holder!).filter((h) => !gone.has(h.toLowerCase()));
  const holders: PurchaseCohort['holders'] = [];
  for (const holder of candidates) {
    const active = await client.readContract({ address: contracts.ConsentToken, abi: consentTokenAbi, functionName: 'isActive', args: [holder, studyId], blockNumber });
    if (!active) continue;
    const extractHash = await client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'extractHashOf', args: [studyId, holder], blockNumber });
    holders.push({ holder, extractHash });
  }
  if (holders.length !== purchase.cohort) {
    throw new ConsentryError('COHORT_MISMATCH', `Purchase #${purchaseId} was priced on ${purchase.cohort} holders but ${holders.length} were found active at block ${blockNumber} (events read from block ${fromBlock})`);
  }
  return { purchase, blockNumber, holders };
}

/** What a release is bound to on chain: the purchase, the buyer's key and the released extracts. */
export function purchaseReleaseHash(purchaseId: bigint, buyerKey: Uint8Array, extractHashes: readonly Hex[]): Hex {
  const sorted = [...extractHashes].map((h) => h.toLowerCase() as Hex).sort();
  return keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'bytes32' }, { type: 'bytes32[]' }], [purchaseId, toHex(buyerKey, { size: 32 }), sorted]));
}

/** The nonce binding re-sealed shares to one purchase. */
const purchaseNonce = (purchaseId: bigint): Hex => pad(toHex(purchaseId), { size: 32 });

/** One member's share of one extract, re-sealed to the buyer. */
export interface ReleasedShare {
  extractHash: Hex;
  memberId: string;
  /** The member's sealed share as stored (its clear header says what it is). */
  share: Uint8Array;
  /** The Shamir y-values sealed to the buyer, bound to the header, the buyer and the purchase. */
  sealedY: Uint8Array;
}

export interface CommitteeMemberKeys {
  /** Signs Confirm; its address is the member id in the shares. */
  account: LocalAccount;
  /** The X25519 secret its shares are sealed to. */
  secretKey: Uint8Array;
}

export interface ReleaseAndConfirmOptions {
  /** Any account to send the confirmation (pays the gas). */
  ctx: MarketContext & { contracts: MarketContext['contracts'] & ReleaseContracts };
  /** The members taking part (k or more). */
  members: readonly CommitteeMemberKeys[];
  purchaseId: bigint;
  /** The buyer's X25519 public key (how the buyer learns it is out of band: decision 026). */
  buyerKey: Uint8Array;
  store: ExtractStore;
  fromBlock?: bigint;
}

/**
 * Each member opens its share of every extract of the purchase's cohort and re-seals it to the buyer;
 * each signs Confirm with the same releaseHash; the signatures confirm on chain.
 */
export async function releaseAndConfirm(opts: ReleaseAndConfirmOptions): Promise<{ releaseHash: Hex; released: ReleasedShare[]; cohort: PurchaseCohort; hash: Hex }> {
  const { ctx, purchaseId, buyerKey } = opts;
  const cohort = await purchaseCohort(ctx.client, ctx.contracts, purchaseId, opts.fromBlock);
  if (cohort.purchase.status !== 'Pending') throw new ConsentryError('PURCHASE_NOT_PENDING', `Purchase #${purchaseId} is ${cohort.purchase.status}, not pending`);
  const { studyId, buyer } = cohort.purchase;
  const nonce = purchaseNonce(purchaseId);
  const released: ReleasedShare[] = [];
  const signatures: { signer: Address; signature: Hex }[] = [];
  const releaseHash = purchaseReleaseHash(purchaseId, buyerKey, cohort.holders.map((h) => h.extractHash));
  for (const member of opts.members) {
    const open = createShareOpener(member.secretKey);
    const seal = createKeySealer(buyerKey);
    const memberId = member.account.address;
    for (const { extractHash } of cohort.holders) {
      const all = await opts.store.shares(extractHash);
      const mine = all?.find((s) => s.memberId.toLowerCase() === memberId.toLowerCase());
      if (!mine) throw new ConsentryError('SHARE_MISSING', `Member ${memberId} has no share of extract ${extractHash}`);
      const opened = open(mine.sealed);
      const expected = extractShareRecord(studyId, extractHash);
      if (opened.recordId !== expected.recordId || opened.version !== expected.version) {
        opened.y.fill(0);
        throw new ConsentryError('SHARE_MISMATCH', `The share stored for extract ${extractHash} is a share of ${opened.recordId}`);
      }
      const { headerLength } = readShareHeader(mine.sealed);
      const sealedY = seal(opened.y, releaseAssociatedData(mine.sealed.subarray(0, headerLength), buyer, nonce));
      opened.y.fill(0);
      released.push({ extractHash, memberId, share: mine.sealed, sealedY });
    }
    signatures.push(await signConfirm(member.account, ctx.client, ctx.contracts.StudyMarket, { purchaseId, studyId, buyer, releaseHash }));
  }
  const confirmed = await confirmPurchase(ctx, purchaseId, releaseHash, signatures);
  return { releaseHash, released, cohort, hash: confirmed.hash };
}

/** The public key a buyer gives the committee for its X25519 secret. */
export const buyerPublicKey = (secretKey: Uint8Array): Uint8Array => x25519.getPublicKey(secretKey);

/**
 * The buyer's side: opens the released shares with its X25519 secret, recovers each extract's key
 * from k of them and opens each extract (ciphertext from the store, checked against its hash).
 */
export async function openPurchasedExtracts(opts: {
  buyer: Address;
  buyerSecretKey: Uint8Array;
  purchaseId: bigint;
  studyId: bigint;
  threshold: number;
  epoch?: number;
  released: readonly ReleasedShare[];
  store: ExtractStore;
}): Promise<{ extractHash: Hex; resources: FhirResource[] }[]> {
  const open = createKeyOpener(opts.buyerSecretKey);
  const nonce = purchaseNonce(opts.purchaseId);
  const byExtract = new Map<string, OpenedShare[]>();
  for (const r of opts.released) {
    const { headerLength, ...header } = readShareHeader(r.share);
    const y = open(r.sealedY, releaseAssociatedData(r.share.subarray(0, headerLength), opts.buyer, nonce));
    const key = r.extractHash.toLowerCase();
    byExtract.set(key, [...(byExtract.get(key) ?? []), { ...header, y }]);
  }
  const out: { extractHash: Hex; resources: FhirResource[] }[] = [];
  for (const [extractHash, shares] of byExtract) {
    const h = extractHash as Hex;
    const dataKey = await recoverExtractKey(shares, { studyId: opts.studyId, extractHash: h, threshold: opts.threshold, ...(opts.epoch !== undefined ? { epoch: opts.epoch } : {}) });
    for (const s of shares) s.y.fill(0);
    const ciphertext = await opts.store.ciphertext(h);
    if (!ciphertext) throw new ConsentryError('EXTRACT_MISSING', `The store has no ciphertext for extract ${h}`);
    try {
      out.push({ extractHash: h, ...openExtract(ciphertext, dataKey, { studyId: opts.studyId, extractHash: h }) });
    } finally {
      dataKey.fill(0);
    }
  }
  return out;
}
