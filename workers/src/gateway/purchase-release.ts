/**
 * A gateway's part in a research purchase (docs/decisions/029-extract-upload-and-committee-release.md):
 * `POST /purchase-release {purchaseId, buyerKey, signature}`, the buyer's EIP-712 ReleaseToBuyer
 * request. Checks, in order: shape; the purchase exists; the signature is the purchase's buyer's;
 * the purchase is not refunded; the cohort read from the chain (cached per purchase: it is fixed at
 * the purchase's block); this member holds its share of every extract of the cohort. Then:
 *   - pending: answers this member's Confirm signature over the releaseHash of (purchase, buyer
 *     key, extract hashes); nothing is released yet (a buyer could otherwise take the data and
 *     its refund);
 *   - confirmed with exactly that releaseHash: opens its shares and answers them re-sealed to the
 *     buyer's key; confirmed with another releaseHash (another key): refused.
 * `GET /extracts/<hash>`: an uploaded extract's ciphertext (public; only k members can open it).
 */
import { getAddress, recoverTypedDataAddress, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { createKeySealer } from '@consentry/sdk/crypto/envelope';
import { createShareOpener } from '@consentry/sdk/crypto/shares';
import { ConsentryError } from '@consentry/sdk/errors';
import { fromBase64, toBase64 } from '@consentry/sdk/records/versions';
import { readPurchase, signConfirm } from '@consentry/sdk/research/market';
import {
  confirmedReleaseHash,
  memberReleaseShares,
  purchaseCohort,
  purchaseReleaseHash,
  releaseToBuyerTypedData,
  type PurchaseCohort,
  type PurchaseReleaseAnswer,
  type ReleaseContracts,
} from '@consentry/sdk/research/purchase-release';
import type { Vault } from '../records/vault.ts';
import { extractCiphertext, ExtractStoreError } from '../research/extracts.ts';

export interface PurchaseReleaserOptions {
  memberPrivateKey: Hex;
  memberSecretKey: Uint8Array;
  client: PublicClient;
  chainId: number;
  contracts: ReleaseContracts;
  /** The block the market was deployed at: events are read from there. */
  fromBlock: bigint;
  vault: Vault;
  blobs: BlobStore;
  /** The gateway's rate limit, asked per buyer once its signature is checked (false: 429). */
  allow?: (who: string) => boolean;
}

export interface Reply<T> {
  status: number;
  body: T | { error: { code: string; message: string } };
}

const requestSchema = z.object({
  purchaseId: z.string().regex(/^\d{1,78}$/, 'a purchase id in decimal'),
  buyerKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "the buyer's X25519 public key, 32 bytes of hex"),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature'),
});

const refuse = (status: number, code: string, message: string) => ({ status, body: { error: { code, message } } });

export function createPurchaseReleaser(opts: PurchaseReleaserOptions) {
  const account = privateKeyToAccount(opts.memberPrivateKey);
  const member = account.address;
  const open = createShareOpener(opts.memberSecretKey);
  const cohorts = new Map<string, Promise<PurchaseCohort>>();
  const cohortOf = (purchaseId: bigint) => {
    const key = purchaseId.toString();
    let c = cohorts.get(key);
    if (!c) {
      c = purchaseCohort(opts.client, opts.contracts, purchaseId, opts.fromBlock);
      c.catch(() => cohorts.delete(key));
      cohorts.set(key, c);
      if (cohorts.size > 256) cohorts.delete(cohorts.keys().next().value!);
    }
    return c;
  };

  async function release(raw: unknown): Promise<Reply<PurchaseReleaseAnswer>> {
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return refuse(400, 'BAD_REQUEST', `The purchase release request is malformed at ${i.path.join('.') || 'the top level'}: ${i.message}`);
    }
    const purchaseId = BigInt(parsed.data.purchaseId);
    const buyerKey = parsed.data.buyerKey.toLowerCase() as Hex;
    const purchase = await readPurchase(opts.client, opts.contracts, purchaseId);
    if (!purchase) return refuse(404, 'PURCHASE_UNKNOWN', `There is no purchase #${purchaseId}`);
    let signer: Address;
    try {
      signer = await recoverTypedDataAddress({ ...releaseToBuyerTypedData(opts.chainId, opts.contracts.StudyMarket, purchaseId, buyerKey), signature: parsed.data.signature as Hex });
    } catch {
      return refuse(401, 'BAD_SIGNATURE', 'The signature does not recover to any address');
    }
    if (signer !== getAddress(purchase.buyer)) return refuse(401, 'NOT_THE_BUYER', `The request is signed by ${signer}, not by the purchase's buyer ${purchase.buyer}`);
    if (opts.allow && !opts.allow(`purchase:${signer.toLowerCase()}`)) return refuse(429, 'RATE_LIMITED', 'Too many release requests from this buyer; slow down');
    if (purchase.status === 'Refunded') return refuse(410, 'PURCHASE_REFUNDED', `Purchase #${purchaseId} was refunded: nothing is released`);
    if (purchase.status === 'Pending' && (await opts.client.getBlock()).timestamp > purchase.deadline) {
      return refuse(410, 'DEADLINE_PASSED', `Purchase #${purchaseId}'s confirmation deadline has passed; the buyer may take the refund`);
    }

    let cohort: PurchaseCohort;
    try {
      cohort = await cohortOf(purchaseId);
    } catch (err) {
      if (err instanceof ConsentryError) return refuse(409, err.code, err.message);
      throw err;
    }
    const hashes = cohort.holders.map((h) => h.extractHash.toLowerCase() as Hex);
    const mine = await opts.vault.extractSharesFor(member, hashes);
    const missing = hashes.filter((h) => !mine.has(h));
    if (missing.length) {
      return refuse(409, 'SHARES_MISSING', `This member holds no share of ${missing.length} of the cohort's ${hashes.length} extracts (first: ${missing[0]}); it cannot release the purchase`);
    }
    const releaseHash = purchaseReleaseHash(purchaseId, fromHexKey(buyerKey), hashes);

    if (purchase.status === 'Pending') {
      const { signature } = await signConfirm(account, opts.client, opts.contracts.StudyMarket, { purchaseId, studyId: purchase.studyId, buyer: purchase.buyer, releaseHash });
      return { status: 200, body: { status: 'pending', member, releaseHash, signature } };
    }
    const confirmedWith = await confirmedReleaseHash(opts.client, opts.contracts.StudyMarket, purchaseId, opts.fromBlock);
    if (confirmedWith?.toLowerCase() !== releaseHash) {
      return refuse(403, 'RELEASE_MISMATCH', `Purchase #${purchaseId} was confirmed for another release (another buyer key): ${confirmedWith}`);
    }
    const released = memberReleaseShares({
      open,
      seal: createKeySealer(fromHexKey(buyerKey), { batch: 256 }),
      memberId: member,
      studyId: purchase.studyId,
      buyer: purchase.buyer,
      purchaseId,
      shares: hashes.map((extractHash) => ({ extractHash, sealed: fromBase64(mine.get(extractHash)!) })),
    });
    return {
      status: 200,
      body: { status: 'released', member, releaseHash, shares: released.map((r) => ({ extractHash: r.extractHash, share: toBase64(r.share), sealedY: toBase64(r.sealedY) })) },
    };
  }

  async function ciphertext(extractHash: string): Promise<Reply<Uint8Array>> {
    try {
      return { status: 200, body: await extractCiphertext(opts, extractHash) };
    } catch (err) {
      if (err instanceof ExtractStoreError) return refuse(err.status, err.code, err.message);
      throw err;
    }
  }

  return { member, release, ciphertext };
}

export type PurchaseReleaser = ReturnType<typeof createPurchaseReleaser>;

function fromHexKey(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}
