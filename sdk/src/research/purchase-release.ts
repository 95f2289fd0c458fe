/**
 * The committee's release for a purchase (docs/decisions/026-purchase-release.md and
 * 029-extract-upload-and-committee-release.md). For a purchase the committee reads, from the chain
 * alone, the cohort it was priced on (the market's HolderJoined / HolderLeft events up to the
 * purchase's block, each still checked with ConsentToken.isActive at that block) and each holder's
 * registered extract hash. The buyer signs a ReleaseToBuyer request naming its X25519 key and sends
 * it to every gateway (each runs one member, on its own keys). While the purchase is pending, each
 * member that holds its share of every extract signs Confirm with a releaseHash that commits to the
 * purchase, the buyer's key and the sorted extract hashes; the buyer confirms on chain with k of
 * them. Once the chain shows the purchase confirmed with that releaseHash, each member opens its
 * shares (each share's header names the study and the extract hash, so a share of anything else is
 * refused) and re-seals the Shamir y-values to the buyer's key, bound to the share header, the buyer
 * and the purchase. The buyer recovers each extract key from k members and opens each extract
 * (fetched by its hash, checked against it).
 */
import { encodeAbiParameters, getAddress, keccak256, pad, toHex, type Address, type Hex, type PublicClient } from 'viem';
import { x25519 } from '@noble/curves/ed25519.js';
import { consentTokenAbi, studyMarketAbi, studyRegistryAbi } from '../abi/generated.ts';
import { releaseAssociatedData, ReleaseRefusedError, type GatewayRef } from '../access/release.ts';
import { createKeyOpener } from '../crypto/envelope.ts';
import { readShareHeader, type OpenedShare, type SealedShare } from '../crypto/shares.ts';
import { ConsentryError } from '../errors.ts';
import type { FhirResource } from '../records/fhir-types.ts';
import { fromBase64 } from '../records/versions.ts';
import { confirmPurchase, readPurchase, type MarketContext, type PurchaseOnChain } from './market.ts';
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

/** The EIP-712 request a buyer signs to have the committee release a purchase to its X25519 key. */
export const RELEASE_TO_BUYER_TYPES = {
  ReleaseToBuyer: [
    { name: 'purchaseId', type: 'uint256' },
    { name: 'buyerKey', type: 'bytes32' },
  ],
} as const;

/** The typed data of a buyer's release request (domain: the StudyMarket's, as Confirm). */
export function releaseToBuyerTypedData(chainId: number, market: Address, purchaseId: bigint, buyerKey: Hex) {
  return {
    domain: { name: 'Consentry StudyMarket', version: '1', chainId, verifyingContract: getAddress(market) },
    types: RELEASE_TO_BUYER_TYPES,
    primaryType: 'ReleaseToBuyer',
    message: { purchaseId, buyerKey: buyerKey.toLowerCase() as Hex },
  } as const;
}

/**
 * One member's release of a purchase's extracts: opens each of its sealed shares (refusing one that
 * is not a share of that extract for that study) and seals the Shamir y-values to the buyer's key,
 * bound to the share header, the buyer and the purchase.
 */
export function memberReleaseShares(opts: {
  open: (sealed: Uint8Array) => OpenedShare;
  seal: (y: Uint8Array, associatedData: Uint8Array) => Uint8Array;
  memberId: string;
  studyId: bigint;
  buyer: Address;
  purchaseId: bigint;
  shares: readonly { extractHash: Hex; sealed: Uint8Array }[];
}): ReleasedShare[] {
  const nonce = purchaseNonce(opts.purchaseId);
  return opts.shares.map(({ extractHash, sealed }) => {
    const opened = opts.open(sealed);
    try {
      const expected = extractShareRecord(opts.studyId, extractHash);
      if (opened.recordId !== expected.recordId || opened.version !== expected.version) {
        throw new ConsentryError('SHARE_MISMATCH', `The share stored for extract ${extractHash} is a share of ${opened.recordId}`);
      }
      const { headerLength } = readShareHeader(sealed);
      const sealedY = opts.seal(opened.y, releaseAssociatedData(sealed.subarray(0, headerLength), opts.buyer, nonce));
      return { extractHash, memberId: opts.memberId, share: sealed, sealedY };
    } finally {
      opened.y.fill(0);
    }
  });
}

/** The releaseHash a confirmed purchase was confirmed with (its PurchaseConfirmed event), or null. */
export async function confirmedReleaseHash(client: PublicClient, market: Address, purchaseId: bigint, fromBlock = 0n): Promise<Hex | null> {
  const events = await client.getContractEvents({ address: market, abi: studyMarketAbi, eventName: 'PurchaseConfirmed', args: { purchaseId }, fromBlock, toBlock: 'latest' });
  return events[0]?.args.releaseHash ?? null;
}

/** A gateway's answer to POST /purchase-release. */
export type PurchaseReleaseAnswer =
  | { status: 'pending'; member: Address; releaseHash: Hex; signature: Hex }
  | { status: 'released'; member: Address; releaseHash: Hex; shares: { extractHash: Hex; share: string; sealedY: string }[] };

export interface RequestPurchaseReleaseOptions {
  /** The buyer's wallet (signs the request; sends the confirmation when the purchase is still pending). */
  ctx: MarketContext;
  gateways: readonly GatewayRef[];
  purchaseId: bigint;
  /** The X25519 key pair the extracts are released to (public key sent, secret kept). */
  buyerKey: Uint8Array;
  /** k, from the chain. */
  threshold: number;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** Called as the release moves on: 'signatures' (k members agreed), 'confirmed' (on chain), 'released'. */
  onProgress?: (stage: 'signatures' | 'confirmed' | 'released', detail: { members: number }) => void;
}

/**
 * The buyer's side of the committee's release: signs a ReleaseToBuyer request and sends it to every
 * gateway. While the purchase is pending, each member that can release every extract of the cohort
 * answers with its Confirm signature; with k agreeing, the buyer confirms on chain (escrow is then
 * the cohort's; no refund) and asks again: each member now sees the purchase confirmed for exactly
 * this key and extracts and releases its re-sealed shares. Fewer than k answers is an error that
 * names every member and why.
 */
export async function requestPurchaseRelease(opts: RequestPurchaseReleaseOptions): Promise<{ releaseHash: Hex; released: ReleasedShare[]; confirmation: Hex | null }> {
  const { ctx, purchaseId } = opts;
  const account = ctx.wallet.account;
  const buyerKey = toHex(opts.buyerKey, { size: 32 });
  const chainId = await ctx.client.getChainId();
  const signature = await account.signTypedData!(releaseToBuyerTypedData(chainId, ctx.contracts.StudyMarket, purchaseId, buyerKey));
  const ask = () => askGateways(opts, { purchaseId: purchaseId.toString(), buyerKey, signature });

  let answers = await ask();
  let confirmation: Hex | null = null;
  const pending = answers.ok.filter((a): a is Extract<PurchaseReleaseAnswer, { status: 'pending' }> => a.status === 'pending');
  if (pending.length > 0) {
    const byHash = new Map<Hex, typeof pending>();
    for (const a of pending) byHash.set(a.releaseHash, [...(byHash.get(a.releaseHash) ?? []), a]);
    const agreed = [...byHash.entries()].find(([, group]) => group.length >= opts.threshold);
    if (!agreed) throw committeeShort(opts.threshold, pending.length, answers.failures, 'agreed to confirm');
    opts.onProgress?.('signatures', { members: agreed[1].length });
    const confirmed = await confirmPurchase(ctx, purchaseId, agreed[0], agreed[1].slice(0, opts.threshold).map((a) => ({ signer: a.member, signature: a.signature })));
    confirmation = confirmed.hash;
    opts.onProgress?.('confirmed', { members: agreed[1].length });
    answers = await ask();
  }
  const released = answers.ok.filter((a): a is Extract<PurchaseReleaseAnswer, { status: 'released' }> => a.status === 'released');
  if (released.length < opts.threshold) throw committeeShort(opts.threshold, released.length, answers.failures, 'released');
  opts.onProgress?.('released', { members: released.length });
  const shares = released.slice(0, opts.threshold).flatMap((a) =>
    a.shares.map((s) => ({ extractHash: s.extractHash.toLowerCase() as Hex, memberId: a.member, share: fromBase64(s.share), sealedY: fromBase64(s.sealedY) })),
  );
  return { releaseHash: released[0]!.releaseHash, released: shares, confirmation };
}

async function askGateways(opts: RequestPurchaseReleaseOptions, body: { purchaseId: string; buyerKey: Hex; signature: Hex }) {
  const doFetch = opts.fetchImpl ?? fetch;
  const ok: PurchaseReleaseAnswer[] = [];
  const failures: { member: string; reason: string; code?: string }[] = [];
  await Promise.all(
    opts.gateways.map(async (g) => {
      const member = g.member.toLowerCase();
      try {
        const res = await doFetch(`${g.url}/purchase-release`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
        });
        const answer = (await res.json().catch(() => null)) as (PurchaseReleaseAnswer & { error?: { code: string; message: string } }) | null;
        if (!res.ok || !answer || answer.error) {
          failures.push({ member, reason: answer?.error?.message ?? `HTTP ${res.status}`, ...(answer?.error?.code ? { code: answer.error.code } : {}) });
          return;
        }
        if (answer.member?.toLowerCase() !== member) throw new Error(`answered as member ${answer.member}`);
        ok.push(answer);
      } catch (err) {
        failures.push({ member, reason: err instanceof Error ? (err.name === 'TimeoutError' ? 'no answer in time' : err.message) : String(err) });
      }
    }),
  );
  return { ok, failures };
}

function committeeShort(k: number, got: number, failures: { member: string; reason: string; code?: string }[], what: string): Error {
  const detail = failures.map((f) => `${f.member}: ${f.reason}`).join('; ');
  const codes = new Set(failures.map((f) => f.code));
  if (got === 0 && failures.length > 0 && codes.size === 1 && failures[0]!.code) {
    return new ReleaseRefusedError(failures[0]!.code, `The committee refused the release: ${failures[0]!.reason}`, failures);
  }
  return new ConsentryError('COMMITTEE_SHORT', `Only ${got} of the ${k} committee members needed ${what}${detail ? ` (${detail})` : ''}`);
}

/** Extract ciphertexts from the gateways' public GET /extracts/<hash> (each checked against its hash by openExtract). */
export function gatewayCiphertexts(gateways: readonly { url: string }[], fetchImpl: typeof fetch = fetch): Pick<ExtractStore, 'ciphertext'> {
  return {
    async ciphertext(extractHash) {
      for (const g of gateways) {
        try {
          const res = await fetchImpl(`${g.url}/extracts/${extractHash.toLowerCase()}`, { signal: AbortSignal.timeout(30_000) });
          if (res.ok) return new Uint8Array(await res.arrayBuffer());
        } catch {
          // the next gateway
        }
      }
      return undefined;
    },
  };
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
  /** Where the ciphertexts come from (gatewayCiphertexts, or any ExtractStore). */
  store: Pick<ExtractStore, 'ciphertext'>;
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
