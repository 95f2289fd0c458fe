/**
 * Splitting data keys k-of-n across the release committee (browser-safe).
 * The committee (members, their X25519 keys, threshold, epoch) is the one ReleaseCommittee.sol reports.
 *
 * A record version's DEK is split with Shamir's scheme over GF(2^8) (shamir-secret-sharing, audited;
 * decision 012) into one share per committee member, and each share is sealed to that member's
 * X25519 key with the envelope sealer (envelope.ts). Everything that says what a share is for (format,
 * epoch, threshold, committee size, member id, Shamir x-coordinate, the member's key, a split id,
 * a commitment to the DEK, the record id and version) is a clear header, authenticated as the
 * associated data of the seal: a share cannot be passed off as another member's, another epoch's or
 * another record's without failing to open.
 *
 *   sealed share = header || sealed y (the 105-byte sealed-key format of envelope.ts, with the header as AD)
 *   header       = 0x01 || epoch u64 || threshold u8 || committeeSize u8 || x u8 || memberPublicKey(32)
 *                  || splitId(16) || commitment(32) || version u32 || u8 length || memberId || u8 length || recordId
 *
 * The commitment is SHA-256 over a domain and the DEK. A DEK is 256 uniformly random bits, so the
 * commitment tells nothing that the record's own ciphertext (an AEAD under the DEK) does not; it lets
 * the combiner check what it reconstructed, since Shamir alone turns a wrong share into a wrong key.
 * The split id tells apart two splits of the same DEK (a re-share interrupted and redone).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { bytesToHex, concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { combine, split } from 'shamir-secret-sharing';
import { ConsentryError } from '../errors.ts';
import { createKeyOpener, createKeySealer, DecryptionError } from './envelope.ts';

const SHARE_FORMAT_V1 = 0x01;
const KEY_BYTES = 32;
const SEALED_KEY_BYTES = 105;
const SPLIT_ID_BYTES = 16;
// version(1) epoch(8) threshold(1) size(1) x(1) memberKey(32) splitId(16) commitment(32) recordVersion(4); then two length-prefixed ids
const FIXED_HEADER_BYTES = 1 + 8 + 1 + 1 + 1 + 32 + SPLIT_ID_BYTES + 32 + 4;
const MEMBER_KEY_OFFSET = 12;
const MAX_MEMBERS = 255;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const SHARE_AD_DOMAIN = encoder.encode('consentry/share/v1');
const COMMIT_DOMAIN = encoder.encode('consentry/dek-commitment/v1');

/** Base class of the errors about committee shares. */
export class ShareError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ShareError';
  }
}

/** Fewer than k shares: the committee cannot release the key now. */
export class CommitteeUnavailableError extends ShareError {
  readonly have: number;
  readonly threshold: number;
  /** Members with no share, when the committee was given. */
  readonly missing: string[];
  constructor(have: number, threshold: number, missing: string[]) {
    super(
      'COMMITTEE_UNAVAILABLE',
      `Committee unavailable: ${have} of the ${threshold} shares needed` +
        (missing.length > 0 ? `; no share from member${missing.length === 1 ? '' : 's'} ${missing.join(', ')}` : ''),
    );
    this.name = 'CommitteeUnavailableError';
    this.have = have;
    this.threshold = threshold;
    this.missing = missing;
  }
}

/** The same member's share (or the same Shamir point) was given twice. */
export class DuplicateShareError extends ShareError {
  constructor(message: string) {
    super('SHARE_DUPLICATE', message);
    this.name = 'DuplicateShareError';
  }
}

/** Shares that do not belong together: other epochs, thresholds, records, splits or keys. */
export class ShareMismatchError extends ShareError {
  constructor(message: string) {
    super('SHARE_MISMATCH', message);
    this.name = 'ShareMismatchError';
  }
}

/** A share from an epoch other than the committee's current one (the key was re-shared since). */
export class StaleShareError extends ShareError {
  readonly epoch: number;
  readonly expectedEpoch: number;
  constructor(epoch: number, expectedEpoch: number) {
    super('SHARE_STALE_EPOCH', `The share is from committee epoch ${epoch}, not the current epoch ${expectedEpoch}: it was re-shared since`);
    this.name = 'StaleShareError';
    this.epoch = epoch;
    this.expectedEpoch = expectedEpoch;
  }
}

/** A sealed share that does not authenticate: altered, truncated, or not a share. */
export class TamperedShareError extends ShareError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHARE_TAMPERED', message, options);
    this.name = 'TamperedShareError';
  }
}

/** A sealed share opened with a key that is not its member's. */
export class WrongMemberKeyError extends ShareError {
  readonly memberId: string;
  constructor(memberId: string) {
    super('SHARE_WRONG_MEMBER', `This share is sealed to committee member ${memberId}; the key given is not that member's`);
    this.name = 'WrongMemberKeyError';
    this.memberId = memberId;
  }
}

export interface CommitteeMember {
  /** Who the member is: its account address as ReleaseCommittee reports it (at most 255 bytes of UTF-8). */
  id: string;
  /** The member's X25519 public key (32 bytes). */
  publicKey: Uint8Array;
}

export interface Committee {
  /** Increases every time the committee changes (uint64 on chain); shares of an older epoch are refused. */
  epoch: number;
  /** k: how many shares recover a DEK (1 ≤ k ≤ n). */
  threshold: number;
  members: readonly CommitteeMember[];
}

/** What a share is a share of: one record version's DEK. */
export interface ShareRecord {
  recordId: string;
  version: number;
}

/** The clear header of a share, as read from it (authenticated only once the share is opened). */
export interface ShareHeader extends ShareRecord {
  epoch: number;
  threshold: number;
  committeeSize: number;
  memberId: string;
  /** The Shamir x-coordinate (1–255). */
  x: number;
  memberPublicKey: Uint8Array;
  splitId: Uint8Array;
  commitment: Uint8Array;
}

/** A share opened by its member: the header and the Shamir y-values (what a member releases). */
export interface OpenedShare extends ShareHeader {
  y: Uint8Array;
}

export interface SealedShare {
  memberId: string;
  sealed: Uint8Array;
}

function assertCommittee({ epoch, threshold, members }: Committee): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`committee epoch must be a non-negative safe integer (got ${epoch})`);
  if (members.length < 1 || members.length > MAX_MEMBERS) throw new RangeError(`a committee has 1 to ${MAX_MEMBERS} members (got ${members.length})`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > members.length) {
    throw new RangeError(`threshold must be an integer from 1 to the committee size ${members.length} (got ${threshold})`);
  }
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const { id, publicKey } of members) {
    if (id.length === 0 || encoder.encode(id).length > 0xff) throw new RangeError(`a member id is 1 to 255 bytes (got "${id}")`);
    if (publicKey.length !== 32) throw new RangeError(`member ${id}: an X25519 public key is 32 bytes`);
    if (ids.has(id)) throw new RangeError(`member ${id} appears twice in the committee`);
    const hex = bytesToHex(publicKey);
    if (keys.has(hex)) throw new RangeError(`member ${id} has the same key as another member`);
    ids.add(id);
    keys.add(hex);
  }
}

function commitTo(dek: Uint8Array): Uint8Array {
  return sha256(concatBytes(COMMIT_DOMAIN, dek));
}

function encodeHeader(h: ShareHeader): Uint8Array {
  if (!Number.isInteger(h.version) || h.version < 1 || h.version > 0xffffffff) {
    throw new RangeError(`record version must be an integer from 1 to 2^32-1 (got ${h.version})`);
  }
  const member = encoder.encode(h.memberId);
  const id = encoder.encode(h.recordId);
  if (id.length > 0xff) throw new RangeError('record id too long for a share (more than 255 bytes)');
  const out = new Uint8Array(FIXED_HEADER_BYTES + 1 + member.length + 1 + id.length);
  const view = new DataView(out.buffer);
  let o = 0;
  out[o++] = SHARE_FORMAT_V1;
  view.setBigUint64(o, BigInt(h.epoch));
  o += 8;
  out[o++] = h.threshold;
  out[o++] = h.committeeSize;
  out[o++] = h.x;
  out.set(h.memberPublicKey, o);
  o += 32;
  out.set(h.splitId, o);
  o += SPLIT_ID_BYTES;
  out.set(h.commitment, o);
  o += 32;
  view.setUint32(o, h.version);
  o += 4;
  out[o++] = member.length;
  out.set(member, o);
  o += member.length;
  out[o++] = id.length;
  out.set(id, o);
  return out;
}

/** Reads the clear header of a sealed share (not yet authenticated: only opening does that). */
export function readShareHeader(sealed: Uint8Array): ShareHeader & { headerLength: number } {
  if (sealed.length < FIXED_HEADER_BYTES + 2 + SEALED_KEY_BYTES || sealed[0] !== SHARE_FORMAT_V1) {
    throw new TamperedShareError('The sealed share is truncated or not in a known format');
  }
  const view = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const memberStart = FIXED_HEADER_BYTES + 1;
  const memberEnd = memberStart + sealed[FIXED_HEADER_BYTES]!;
  const recordStart = memberEnd + 1;
  const headerLength = recordStart + (sealed[memberEnd] ?? 0);
  if (sealed.length !== headerLength + SEALED_KEY_BYTES) throw new TamperedShareError('The sealed share is truncated or has extra bytes');
  let memberId: string;
  let recordId: string;
  try {
    memberId = decoder.decode(sealed.subarray(memberStart, memberEnd));
    recordId = decoder.decode(sealed.subarray(recordStart, headerLength));
  } catch (cause) {
    throw new TamperedShareError('The sealed share names a member or record that is not UTF-8', { cause });
  }
  const epoch = view.getBigUint64(1);
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw new TamperedShareError('The sealed share names an epoch beyond 2^53-1');
  const k = MEMBER_KEY_OFFSET;
  return {
    epoch: Number(epoch),
    threshold: sealed[9]!,
    committeeSize: sealed[10]!,
    x: sealed[11]!,
    memberPublicKey: sealed.slice(k, k + 32),
    splitId: sealed.slice(k + 32, k + 32 + SPLIT_ID_BYTES),
    commitment: sealed.slice(k + 32 + SPLIT_ID_BYTES, k + 64 + SPLIT_ID_BYTES),
    version: view.getUint32(k + 64 + SPLIT_ID_BYTES),
    memberId,
    recordId,
    headerLength,
  };
}

function associatedData(header: Uint8Array): Uint8Array {
  return concatBytes(SHARE_AD_DOMAIN, header);
}

/**
 * A splitter for one committee: splits many DEKs, sealing each member's share with one batched
 * sealer per member (one X25519 agreement per member per 256 keys; see createKeySealer).
 */
export function createDataKeySplitter(committee: Committee): (dek: Uint8Array, record: ShareRecord) => Promise<SealedShare[]> {
  assertCommittee(committee);
  const { epoch, threshold, members } = committee;
  const sealers = members.map((m) => createKeySealer(m.publicKey));
  return async (dek, record) => {
    if (dek.length !== KEY_BYTES) throw new RangeError(`A data key is ${KEY_BYTES} bytes (got ${dek.length})`);
    // The library wants k ≥ 2 and n ≥ 2. With k = 1 every share is the key itself (a constant
    // polynomial), which is what 1-of-n means.
    const points =
      threshold === 1 ? members.map((_, i) => concatBytes(dek, Uint8Array.of(i + 1))) : await split(dek, members.length, threshold);
    const splitId = randomBytes(SPLIT_ID_BYTES);
    const commitment = commitTo(dek);
    return members.map((member, i) => {
      const point = points[i]!;
      const header = encodeHeader({
        ...record,
        epoch,
        threshold,
        committeeSize: members.length,
        memberId: member.id,
        x: point[KEY_BYTES]!,
        memberPublicKey: member.publicKey,
        splitId,
        commitment,
      });
      const sealedY = sealers[i]!(point.subarray(0, KEY_BYTES), associatedData(header));
      point.fill(0);
      return { memberId: member.id, sealed: concatBytes(header, sealedY) };
    });
  };
}

/** Splits one DEK k-of-n and seals each share to its member: one sealed share per member, in committee order. */
export async function splitDataKey(dek: Uint8Array, committee: Committee, record: ShareRecord): Promise<SealedShare[]> {
  return createDataKeySplitter(committee)(dek, record);
}

/** Re-shares a DEK to a new committee (a new epoch): a fresh split, nothing kept from the old one. */
export async function reshareDataKey(dek: Uint8Array, newCommittee: Committee, record: ShareRecord): Promise<SealedShare[]> {
  return splitDataKey(dek, newCommittee, record);
}

/** An opener for one member: opens that member's sealed shares with its X25519 secret key. */
export function createShareOpener(memberSecretKey: Uint8Array): (sealed: Uint8Array) => OpenedShare {
  const memberPublic = x25519.getPublicKey(memberSecretKey);
  const open = createKeyOpener(memberSecretKey);
  return (sealed) => {
    const { headerLength, ...header } = readShareHeader(sealed);
    if (!equalBytes(header.memberPublicKey, memberPublic)) throw new WrongMemberKeyError(header.memberId);
    let y: Uint8Array;
    try {
      y = open(sealed.subarray(headerLength), associatedData(sealed.subarray(0, headerLength)));
    } catch (cause) {
      if (!(cause instanceof DecryptionError)) throw cause;
      throw new TamperedShareError(
        `The share of member ${header.memberId} does not authenticate: its header (member, epoch, threshold, record) or sealed bytes were altered`,
        { cause },
      );
    }
    return { ...header, y };
  };
}

/** Opens one sealed share with its member's X25519 secret key. */
export function openShare(sealed: Uint8Array, memberSecretKey: Uint8Array): OpenedShare {
  return createShareOpener(memberSecretKey)(sealed);
}

export interface CombineExpectation {
  /** k as the combiner knows it (from the chain); shares claiming another threshold are refused. */
  threshold: number;
  /** The committee's current epoch: shares from any other epoch are refused as stale. */
  epoch?: number;
  /** The record version whose DEK is wanted: shares of any other are refused. */
  record?: ShareRecord;
  /** The committee's member ids, to name the members whose shares are missing. */
  members?: readonly string[];
}

/**
 * Recovers a DEK from k or more opened shares of one split. Checks, in order: shares belong to the
 * expected epoch, record and threshold, and to one split; no member or point twice; at least k; and
 * the recovered key matches the split's commitment (a member that released a wrong share is caught here).
 */
export async function combineShares(shares: readonly OpenedShare[], expected: CombineExpectation): Promise<Uint8Array> {
  const { threshold } = expected;
  for (const s of shares) {
    if (expected.epoch !== undefined && s.epoch !== expected.epoch) throw new StaleShareError(s.epoch, expected.epoch);
    if (s.threshold !== threshold) throw new ShareMismatchError(`The share of member ${s.memberId} is for a ${s.threshold}-of-n split, not ${threshold}-of-n`);
    if (expected.record && (s.recordId !== expected.record.recordId || s.version !== expected.record.version)) {
      throw new ShareMismatchError(`The share of member ${s.memberId} is for record ${s.recordId} version ${s.version}, not the one asked for`);
    }
    if (s.y.length !== KEY_BYTES || s.x < 1) throw new ShareMismatchError(`The share of member ${s.memberId} is malformed`);
  }
  const first = shares[0];
  if (first) {
    for (const s of shares) {
      if (s.epoch !== first.epoch) throw new ShareMismatchError(`Shares from different committee epochs (${first.epoch} and ${s.epoch}) cannot be combined`);
      if (s.recordId !== first.recordId || s.version !== first.version) throw new ShareMismatchError('Shares of different records cannot be combined');
      if (!equalBytes(s.commitment, first.commitment)) throw new ShareMismatchError('Shares of different data keys cannot be combined');
      if (!equalBytes(s.splitId, first.splitId)) {
        throw new ShareMismatchError('Shares from different splits of the key cannot be combined (the key was re-shared; use one split)');
      }
    }
  }
  const members = new Set<string>();
  const xs = new Set<number>();
  for (const s of shares) {
    if (members.has(s.memberId)) throw new DuplicateShareError(`Member ${s.memberId}'s share was given more than once`);
    if (xs.has(s.x)) throw new DuplicateShareError(`Two shares (member ${s.memberId} and another) carry the same point`);
    members.add(s.memberId);
    xs.add(s.x);
  }
  if (!first || shares.length < threshold) {
    const missing = (expected.members ?? []).filter((m) => !members.has(m));
    throw new CommitteeUnavailableError(shares.length, threshold, missing);
  }
  // k shares determine the polynomial; more add nothing but cost.
  const used = shares.slice(0, threshold);
  const dek = threshold === 1 ? first.y.slice() : await combine(used.map((s) => concatBytes(s.y, Uint8Array.of(s.x))));
  if (!equalBytes(commitTo(dek), first.commitment)) {
    dek.fill(0);
    throw new ShareMismatchError('The shares do not recover the committed data key: a member released a wrong share');
  }
  return dek;
}

/** One record version whose DEK the patient holds sealed (the patient's sealed key from the vault). */
export interface ReshareInput extends ShareRecord {
  sealedKey: Uint8Array;
}

export interface ReshareOutput extends ShareRecord {
  epoch: number;
  shares: SealedShare[];
}

export interface ReshareProgress {
  /** Records re-shared in this run so far (skipped ones not counted). */
  done: number;
  /** Records skipped because `isDone` said they were already re-shared to this epoch. */
  skipped: number;
  /** The record just re-shared. */
  last: ReshareOutput;
}

export interface ReshareOptions {
  /** Called after each record; store `last.shares` here (a crash then loses at most the record in flight). */
  onProgress?: (progress: ReshareProgress) => void | Promise<void>;
  /** Resumption: records for which this returns true (already re-shared to this epoch) are skipped. */
  isDone?: (record: ShareRecord) => boolean | Promise<boolean>;
  /** Stops between records; the shares of records already reported stay valid. */
  signal?: AbortSignal;
}

/**
 * Re-shares the patient's records to a new committee: opens each record's DEK with the patient's own
 * key (`openOwn`, e.g. `createKeyOpener(patientSecretKey)`), splits it to the new committee and
 * returns the new share sets (each DEK is wiped once split). Run by the patient's client when the committee epoch changes; the old
 * epoch's shares are then refused by combineShares (and should be destroyed by the old members).
 */
export async function reshareAll(
  records: Iterable<ReshareInput> | AsyncIterable<ReshareInput>,
  openOwn: (sealedKey: Uint8Array) => Uint8Array | Promise<Uint8Array>,
  newCommittee: Committee,
  { onProgress, isDone, signal }: ReshareOptions = {},
): Promise<ReshareOutput[]> {
  const splitter = createDataKeySplitter(newCommittee);
  const out: ReshareOutput[] = [];
  let skipped = 0;
  for await (const { recordId, version, sealedKey } of records) {
    signal?.throwIfAborted();
    const record = { recordId, version };
    if (isDone && (await isDone(record))) {
      skipped++;
      continue;
    }
    const dek = await openOwn(sealedKey);
    try {
      const shares = await splitter(dek, record);
      const last = { ...record, epoch: newCommittee.epoch, shares };
      out.push(last);
      await onProgress?.({ done: out.length, skipped, last });
    } finally {
      dek.fill(0);
    }
  }
  return out;
}
