/**
 * Storing a sealed de-identified study extract (docs/decisions/029-extract-upload-and-committee-release.md).
 * The participant's client uploads, before it enrolls: the ciphertext and one sealed share of its
 * data key per committee member. The upload carries no session and no patient: it is checked for
 * what it says of itself, never trusted for anything else:
 *   - the ciphertext is at most MAX_EXTRACT_BYTES, and its SHA-256 is the extract hash (what
 *     enrollment registers on chain); it goes to the blob store under that CID;
 *   - the study exists and is enrolling (the caller asks the chain);
 *   - there is exactly one share per member of the committee's current epoch, each sealed to that
 *     member's key and naming this study's extract (`extract:<studyId>:<hash>`), version 1, the
 *     epoch and the threshold on chain; so any k members can later release it.
 * An upload of an extract already stored is accepted and changes nothing.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { z } from 'zod';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import type { Committee } from '@consentry/sdk/crypto/shares';
import { readShareHeader } from '@consentry/sdk/crypto/shares';
import { ConsentryError } from '@consentry/sdk/errors';
import { fromBase64, toBase64 } from '@consentry/sdk/records/versions';
import { extractCid, extractShareRecord } from '@consentry/sdk/research/seal-extract';
import type { Address, PublicClient } from 'viem';
import { readCommittee } from '@consentry/sdk/access/release';
import { readStudy } from '@consentry/sdk/zk/chain';
import type { Vault } from '../records/vault.ts';

/** The largest extract accepted (a de-identified extract of a few categories is kilobytes). */
export const MAX_EXTRACT_BYTES = 4 * 1024 * 1024;
/** ReleaseCommittee caps the committee at 32 members. */
const MAX_MEMBERS = 32;

/** An upload or read refused, with the HTTP status that says why. */
export class ExtractStoreError extends ConsentryError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.name = 'ExtractStoreError';
    this.status = status;
  }
}

export const extractUploadSchema = z.object({
  studyId: z.string().regex(/^\d{1,78}$/, 'a study id in decimal'),
  /** base64 of the ciphertext. */
  ciphertext: z
    .string()
    .min(1)
    .max(Math.ceil(MAX_EXTRACT_BYTES / 3) * 4, `an extract is at most ${MAX_EXTRACT_BYTES / 1024 / 1024} MiB`),
  shares: z
    .array(z.object({ member: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address'), sealedShare: z.string().min(300).max(1200) }))
    .min(1)
    .max(MAX_MEMBERS),
});
export type ExtractUpload = z.infer<typeof extractUploadSchema>;

export interface ExtractStores {
  vault: Vault;
  blobs: BlobStore;
}

export interface StoreExtractOptions extends ExtractStores {
  /** The committee's current epoch, threshold and members, from the chain. */
  committee: Committee;
  /** Whether the study is approved and open (from the chain): only such a study takes extracts. */
  studyIsOpen(studyId: bigint): Promise<boolean>;
  now?: () => number;
}

/** Stores an upload checked against the chain now: the committee's current epoch and whether the study enrolls. */
export async function storeExtractFromChain(
  stores: ExtractStores & { client: PublicClient; contracts: { ReleaseCommittee: Address; StudyRegistry: Address } },
  body: unknown,
): ReturnType<typeof storeExtract> {
  const committee = await readCommittee(stores.client, stores.contracts.ReleaseCommittee);
  const studyIsOpen = async (studyId: bigint) => (await readStudy(stores.client, stores.contracts, studyId))?.status === 'Approved';
  return storeExtract({ vault: stores.vault, blobs: stores.blobs, committee, studyIsOpen }, body);
}

/** Checks and stores an upload; resolves with its hash, its CID and whether it was new. */
export async function storeExtract(opts: StoreExtractOptions, body: unknown): Promise<{ extractHash: `0x${string}`; cid: string; stored: boolean }> {
  const parsed = extractUploadSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new ExtractStoreError(400, 'BAD_EXTRACT', `The extract upload is malformed at ${first.path.join('.') || 'the top level'}: ${first.message}`);
  }
  const { committee } = opts;
  const studyId = BigInt(parsed.data.studyId);
  let ciphertext: Uint8Array;
  try {
    ciphertext = fromBase64(parsed.data.ciphertext);
  } catch {
    throw new ExtractStoreError(400, 'BAD_EXTRACT', 'The extract ciphertext is not base64');
  }
  if (ciphertext.length > MAX_EXTRACT_BYTES) throw new ExtractStoreError(413, 'EXTRACT_TOO_LARGE', `An extract is at most ${MAX_EXTRACT_BYTES} bytes (this one is ${ciphertext.length})`);
  const extractHash = `0x${bytesToHex(sha256(ciphertext))}` as const;
  const record = extractShareRecord(studyId, extractHash);

  const byMember = new Map(committee.members.map((m) => [m.id.toLowerCase(), m]));
  const seen = new Set<string>();
  for (const [i, s] of parsed.data.shares.entries()) {
    const member = s.member.toLowerCase();
    const where = `shares.${i} (member ${member})`;
    const expected = byMember.get(member);
    if (!expected) throw new ExtractStoreError(400, 'NOT_A_MEMBER', `${where}: not a member of the committee's epoch ${committee.epoch}`);
    if (seen.has(member)) throw new ExtractStoreError(400, 'DUPLICATE_SHARE', `${where}: a second share for the same member`);
    seen.add(member);
    let header: ReturnType<typeof readShareHeader>;
    try {
      header = readShareHeader(fromBase64(s.sealedShare));
    } catch (err) {
      throw new ExtractStoreError(400, 'BAD_SHARE', `${where}: ${err instanceof Error ? err.message : 'not a sealed share'}`);
    }
    if (header.recordId !== record.recordId || header.version !== record.version) {
      throw new ExtractStoreError(400, 'SHARE_MISMATCH', `${where}: the share is of ${header.recordId}, not of this extract (${record.recordId})`);
    }
    if (header.memberId.toLowerCase() !== member || toBase64(header.memberPublicKey) !== toBase64(expected.publicKey)) {
      throw new ExtractStoreError(400, 'SHARE_MISMATCH', `${where}: the share is sealed to another member or key`);
    }
    if (header.epoch !== committee.epoch || header.threshold !== committee.threshold || header.committeeSize !== committee.members.length) {
      throw new ExtractStoreError(
        409,
        'STALE_SHARE',
        `${where}: the share was split for epoch ${header.epoch} (${header.threshold} of ${header.committeeSize}); the committee is now epoch ${committee.epoch} (${committee.threshold} of ${committee.members.length}): seal the extract again`,
      );
    }
  }
  const missing = committee.members.filter((m) => !seen.has(m.id.toLowerCase())).map((m) => m.id);
  if (missing.length) throw new ExtractStoreError(400, 'SHARES_MISSING', `The upload has no share for ${missing.join(', ')}: every member needs one`);
  if (!(await opts.studyIsOpen(studyId))) throw new ExtractStoreError(409, 'STUDY_NOT_OPEN', `Study #${studyId} is not approved and open for enrollment`);

  const cid = await opts.blobs.put(ciphertext);
  if (cid !== extractCid(extractHash)) throw new ExtractStoreError(500, 'EXTRACT_CID', `The blob store filed the extract as ${cid}, not ${extractCid(extractHash)}`);
  const stored = await opts.vault.insertExtract(
    { extractHash, studyId: studyId.toString(), epoch: committee.epoch, size: ciphertext.length, createdAt: Math.floor((opts.now?.() ?? Date.now()) / 1000) },
    parsed.data.shares.map((s) => ({ extractHash, member: s.member.toLowerCase(), sealedShare: s.sealedShare })),
  );
  return { extractHash, cid, stored };
}

/** An extract's ciphertext by its hash (public: only k committee members together can open it). */
export async function extractCiphertext({ vault, blobs }: ExtractStores, extractHash: string): Promise<Uint8Array> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(extractHash)) throw new ExtractStoreError(400, 'BAD_EXTRACT_HASH', 'An extract hash is 0x and 64 hex digits');
  if (!(await vault.extract(extractHash))) throw new ExtractStoreError(404, 'EXTRACT_NOT_FOUND', `No extract ${extractHash} was uploaded`);
  return blobs.get(extractCid(extractHash as `0x${string}`));
}
