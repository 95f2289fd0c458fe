/**
 * The guardians' backup of a patient's X25519 encryption secret (browser-safe; decision 031).
 *
 * The 32-byte secret is split t-of-m with Shamir's scheme over GF(2^8) (shamir-secret-sharing, the
 * audited library the committee shares use; decision 012), one share per guardian, each sealed to
 * that guardian's registered X25519 key with the envelope sealer. What a share is for is a clear
 * header, authenticated as the seal's associated data, so a share cannot be passed off as another
 * guardian's, another account's or another backup's:
 *
 *   backup share   = header || sealed y (105 bytes)
 *   header         = 0x01 || account(20) || guardian(20) || backupId(16) || threshold u8 || count u8 || x u8
 *                    || accountPublicKey(32) || guardianPublicKey(32)
 *
 * A guardian releases its share only for a recovery the chain shows as completed: it opens its share
 * and seals y again to the recovery key the guardians approved on chain, binding the recovery:
 *
 *   released share = release header || sealed y (105 bytes)
 *   release header = 0x01 || account(20) || nonce u64 || newController(20) || recoveryKey(32)
 *                    || guardian(20) || backupId(16) || threshold u8 || count u8 || x u8 || accountPublicKey(32)
 *
 * The new wallet opens t released shares with its own derived key, combines them and checks the
 * result against the account's encryption key on chain: a wrong or forged share cannot yield a key
 * that passes, because the public key is the commitment.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { combine, split } from 'shamir-secret-sharing';
import { bytesToHex, getAddress, hexToBytes, type Address, type Hex } from 'viem';
import { ConsentryError } from '../errors.ts';
import { createKeyOpener, createKeySealer, DecryptionError } from '../crypto/envelope.ts';

const FORMAT_V1 = 0x01;
const SECRET_BYTES = 32;
const SEALED_BYTES = 105;
const BACKUP_ID_BYTES = 16;
/** The bounds, the same as the contract's: 2 ≤ t ≤ m ≤ 10. */
export const MAX_GUARDIANS = 10;
export const MIN_THRESHOLD = 2;
const BACKUP_HEADER_BYTES = 1 + 20 + 20 + BACKUP_ID_BYTES + 3 + 32 + 32;
const RELEASE_HEADER_BYTES = 1 + 20 + 8 + 20 + 32 + 20 + BACKUP_ID_BYTES + 3 + 32;
const encoder = new TextEncoder();
const BACKUP_AD = encoder.encode('consentry/key-backup/v1');
const RELEASE_AD = encoder.encode('consentry/key-backup-release/v1');

export class KeyBackupError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'KeyBackupError';
  }
}

export interface Guardian {
  address: Address;
  /** The guardian's registered X25519 public key (PatientRegistry.encryptionKeyOf). */
  publicKey: Uint8Array | Hex;
}

/** What a guardian's share is, in both headers: whose, which backup, t of m, its x, the key it backs up. */
interface ShareFacts {
  guardian: Address;
  backupId: Hex;
  threshold: number;
  count: number;
  x: number;
  accountPublicKey: Hex;
}

export interface BackupShareHeader extends ShareFacts {
  account: Address;
  guardianPublicKey: Hex;
}

export interface RecoveryTerms {
  account: Address;
  /** The recovery's nonce on chain (PatientRegistry.completedRecovery). */
  nonce: bigint;
  newController: Address;
  /** The X25519 public key the guardians approved with the recovery. */
  recoveryKey: Hex;
}

export type ReleasedShareHeader = RecoveryTerms & ShareFacts;

const keyBytes = (key: Uint8Array | Hex, what: string): Uint8Array => {
  const bytes = typeof key === 'string' ? hexToBytes(key) : key;
  if (bytes.length !== 32) throw new KeyBackupError('BACKUP_BAD_KEY', `${what} must be a 32-byte X25519 public key`);
  return bytes;
};
const addressBytes = (a: Address) => hexToBytes(getAddress(a));
const readAddress = (b: Uint8Array, o: number) => getAddress(bytesToHex(b.subarray(o, o + 20)));

function encodeBackupHeader(h: BackupShareHeader): Uint8Array {
  return concatBytes(
    Uint8Array.of(FORMAT_V1),
    addressBytes(h.account),
    addressBytes(h.guardian),
    hexToBytes(h.backupId),
    Uint8Array.of(h.threshold, h.count, h.x),
    hexToBytes(h.accountPublicKey),
    hexToBytes(h.guardianPublicKey),
  );
}

/** Reads the clear header of a guardian's backup share (authenticated only by opening it). */
export function readBackupShareHeader(sealed: Uint8Array): BackupShareHeader {
  if (sealed.length !== BACKUP_HEADER_BYTES + SEALED_BYTES || sealed[0] !== FORMAT_V1) {
    throw new KeyBackupError('BACKUP_SHARE_MALFORMED', `A backup share is ${BACKUP_HEADER_BYTES + SEALED_BYTES} bytes in format 1 (got ${sealed.length} bytes)`);
  }
  let o = 41;
  const backupId = bytesToHex(sealed.subarray(o, (o += BACKUP_ID_BYTES)));
  const [threshold, count, x] = [sealed[o]!, sealed[o + 1]!, sealed[o + 2]!];
  o += 3;
  return {
    account: readAddress(sealed, 1),
    guardian: readAddress(sealed, 21),
    backupId,
    threshold,
    count,
    x,
    accountPublicKey: bytesToHex(sealed.subarray(o, o + 32)),
    guardianPublicKey: bytesToHex(sealed.subarray(o + 32, o + 64)),
  };
}

function encodeReleaseHeader(h: ReleasedShareHeader): Uint8Array {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setBigUint64(0, h.nonce);
  return concatBytes(
    Uint8Array.of(FORMAT_V1),
    addressBytes(h.account),
    nonce,
    addressBytes(h.newController),
    hexToBytes(h.recoveryKey),
    addressBytes(h.guardian),
    hexToBytes(h.backupId),
    Uint8Array.of(h.threshold, h.count, h.x),
    hexToBytes(h.accountPublicKey),
  );
}

/** Reads the clear header of a released share. */
export function readReleasedShareHeader(sealed: Uint8Array): ReleasedShareHeader {
  if (sealed.length !== RELEASE_HEADER_BYTES + SEALED_BYTES || sealed[0] !== FORMAT_V1) {
    throw new KeyBackupError('RELEASED_SHARE_MALFORMED', `A released share is ${RELEASE_HEADER_BYTES + SEALED_BYTES} bytes in format 1 (got ${sealed.length} bytes)`);
  }
  const view = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  let o = 49;
  const recoveryKey = bytesToHex(sealed.subarray(o, (o += 32)));
  const guardian = readAddress(sealed, o);
  o += 20;
  const backupId = bytesToHex(sealed.subarray(o, (o += BACKUP_ID_BYTES)));
  const [threshold, count, x] = [sealed[o]!, sealed[o + 1]!, sealed[o + 2]!];
  o += 3;
  return {
    account: readAddress(sealed, 1),
    nonce: view.getBigUint64(21),
    newController: readAddress(sealed, 29),
    recoveryKey,
    guardian,
    backupId,
    threshold,
    count,
    x,
    accountPublicKey: bytesToHex(sealed.subarray(o, o + 32)),
  };
}

function assertGuardians(account: Address, guardians: readonly Guardian[], threshold: number): void {
  if (guardians.length < MIN_THRESHOLD || guardians.length > MAX_GUARDIANS) {
    throw new KeyBackupError('BACKUP_BAD_GUARDIANS', `A backup needs ${MIN_THRESHOLD} to ${MAX_GUARDIANS} guardians (got ${guardians.length})`);
  }
  if (!Number.isInteger(threshold) || threshold < MIN_THRESHOLD || threshold > guardians.length) {
    throw new KeyBackupError('BACKUP_BAD_THRESHOLD', `The threshold must be from ${MIN_THRESHOLD} to the number of guardians, ${guardians.length} (got ${threshold})`);
  }
  const seen = new Set<string>();
  for (const g of guardians) {
    const a = getAddress(g.address);
    if (a === getAddress(account)) throw new KeyBackupError('BACKUP_BAD_GUARDIANS', 'A patient cannot be their own guardian');
    if (seen.has(a)) throw new KeyBackupError('BACKUP_BAD_GUARDIANS', `Guardian ${a} appears twice`);
    seen.add(a);
    keyBytes(g.publicKey, `Guardian ${a}'s key`);
  }
}

/**
 * Splits the patient's encryption secret t-of-m, one share sealed to each guardian (in the order
 * given). The backup id tells two backups apart: a new backup (new guardians, a rotated key)
 * replaces the old one, and shares of different backups never combine.
 */
export async function splitKeyBackup(input: {
  secretKey: Uint8Array;
  account: Address;
  guardians: readonly Guardian[];
  threshold: number;
}): Promise<{ backupId: Hex; publicKey: Hex; shares: { guardian: Address; sealedShare: Uint8Array }[] }> {
  const { secretKey, account, guardians, threshold } = input;
  if (secretKey.length !== SECRET_BYTES) throw new KeyBackupError('BACKUP_BAD_KEY', 'The encryption secret key must be 32 bytes');
  assertGuardians(account, guardians, threshold);
  const publicKey = bytesToHex(x25519.getPublicKey(secretKey));
  const backupId = bytesToHex(randomBytes(BACKUP_ID_BYTES));
  const points = await split(secretKey, guardians.length, threshold);
  const shares = guardians.map((g, i) => {
    const point = points[i]!;
    const guardianKey = keyBytes(g.publicKey, 'A guardian key');
    const header = encodeBackupHeader({
      account: getAddress(account),
      guardian: getAddress(g.address),
      backupId,
      threshold,
      count: guardians.length,
      x: point[SECRET_BYTES]!,
      accountPublicKey: publicKey,
      guardianPublicKey: bytesToHex(guardianKey),
    });
    const sealed = createKeySealer(guardianKey, { batch: 1 })(point.subarray(0, SECRET_BYTES), concatBytes(BACKUP_AD, header));
    point.fill(0);
    return { guardian: getAddress(g.address), sealedShare: concatBytes(header, sealed) };
  });
  return { backupId, publicKey, shares };
}

/**
 * A guardian's release: opens its backup share with its own secret key and seals the share again to
 * the recovery key of the given recovery, bound to that recovery. The caller must have read the
 * recovery from the chain as completed (PatientRegistry.completedRecovery); the web API and the CLI
 * check it again before they accept or send a release.
 */
export function releaseBackupShare(input: { sealedShare: Uint8Array; guardianSecretKey: Uint8Array; recovery: RecoveryTerms }): Uint8Array {
  const { sealedShare, guardianSecretKey, recovery } = input;
  const header = readBackupShareHeader(sealedShare);
  if (getAddress(header.account) !== getAddress(recovery.account)) {
    throw new KeyBackupError('BACKUP_WRONG_ACCOUNT', `This share backs up ${header.account}, not ${recovery.account}`);
  }
  if (!equalBytes(x25519.getPublicKey(guardianSecretKey), hexToBytes(header.guardianPublicKey))) {
    throw new KeyBackupError('BACKUP_WRONG_GUARDIAN_KEY', `This share is sealed to guardian ${header.guardian}'s key, not to the key of this wallet`);
  }
  let y: Uint8Array;
  try {
    y = createKeyOpener(guardianSecretKey)(sealedShare.subarray(BACKUP_HEADER_BYTES), concatBytes(BACKUP_AD, sealedShare.subarray(0, BACKUP_HEADER_BYTES)));
  } catch (cause) {
    if (!(cause instanceof DecryptionError)) throw cause;
    throw new KeyBackupError('BACKUP_SHARE_TAMPERED', 'The backup share does not authenticate: its header or sealed bytes were altered', { cause });
  }
  const releaseHeader = encodeReleaseHeader({
    ...recovery,
    account: getAddress(recovery.account),
    newController: getAddress(recovery.newController),
    recoveryKey: bytesToHex(keyBytes(recovery.recoveryKey, 'The recovery key')),
    guardian: header.guardian,
    backupId: header.backupId,
    threshold: header.threshold,
    count: header.count,
    x: header.x,
    accountPublicKey: header.accountPublicKey,
  });
  const sealed = createKeySealer(hexToBytes(recovery.recoveryKey), { batch: 1 })(y, concatBytes(RELEASE_AD, releaseHeader));
  y.fill(0);
  return concatBytes(releaseHeader, sealed);
}

/**
 * The new wallet's side: opens the released shares of one completed recovery with its own derived
 * secret key, combines t of them and checks the result against the account's encryption key on chain.
 * Shares of another recovery, another backup or another account are refused in words, not combined.
 */
export async function recoverSecretFromReleased(input: {
  released: readonly Uint8Array[];
  recoverySecretKey: Uint8Array;
  recovery: RecoveryTerms;
  /** The account's encryption key on chain (PatientRegistry.encryptionKeyOf). */
  expectedPublicKey: Hex;
}): Promise<Uint8Array> {
  const { released, recoverySecretKey, recovery, expectedPublicKey } = input;
  const ownKey = bytesToHex(x25519.getPublicKey(recoverySecretKey));
  if (ownKey.toLowerCase() !== recovery.recoveryKey.toLowerCase()) {
    throw new KeyBackupError('RECOVERY_WRONG_KEY', 'This wallet\'s key is not the recovery key the guardians approved; use the wallet that asked for the recovery');
  }
  const open = createKeyOpener(recoverySecretKey);
  // Shares of two backups (the patient backed up again to other guardians) never combine: each
  // backup is a group of its own.
  const groups = new Map<Hex, { threshold: number; points: Map<number, Uint8Array> }>();
  const refused: string[] = [];
  for (const bytes of released) {
    let h: ReleasedShareHeader;
    try {
      h = readReleasedShareHeader(bytes);
    } catch (err) {
      refused.push((err as Error).message);
      continue;
    }
    const same =
      getAddress(h.account) === getAddress(recovery.account) &&
      h.nonce === recovery.nonce &&
      getAddress(h.newController) === getAddress(recovery.newController) &&
      h.recoveryKey.toLowerCase() === recovery.recoveryKey.toLowerCase();
    if (!same) {
      refused.push(`guardian ${h.guardian}'s share is for another recovery`);
      continue;
    }
    if (h.accountPublicKey.toLowerCase() !== expectedPublicKey.toLowerCase()) {
      refused.push(`guardian ${h.guardian}'s share backs up an older key, not the account's key on chain`);
      continue;
    }
    let y: Uint8Array;
    try {
      y = open(bytes.subarray(RELEASE_HEADER_BYTES), concatBytes(RELEASE_AD, bytes.subarray(0, RELEASE_HEADER_BYTES)));
    } catch {
      refused.push(`guardian ${h.guardian}'s share does not authenticate`);
      continue;
    }
    const group = groups.get(h.backupId) ?? { threshold: h.threshold, points: new Map() };
    groups.set(h.backupId, group);
    if (!group.points.has(h.x)) group.points.set(h.x, concatBytes(y, Uint8Array.of(h.x)));
  }
  const usable = [...groups.values()].filter((g) => g.points.size >= g.threshold);
  if (usable.length === 0) {
    const best = [...groups.values()].sort((a, b) => b.points.size - a.points.size)[0];
    throw new KeyBackupError(
      'RECOVERY_TOO_FEW_SHARES',
      `${best?.points.size ?? 0} usable guardian share${best?.points.size === 1 ? '' : 's'} of the ${best?.threshold ?? 't'} needed` +
        (refused.length ? `; refused: ${refused.join('; ')}` : ''),
    );
  }
  // A guardian can send a share that authenticates but carries a wrong y (it knows the recovery key).
  // The public key on chain tells a right combination from a wrong one, so every t-subset is tried
  // (at most C(10, 5) = 252): one bad guardian can neither forge the key nor block the recovery.
  try {
    for (const { threshold, points } of usable) {
      const all = [...points.values()];
      for (const subset of subsets(all.length, threshold)) {
        const secret = await combine(subset.map((i) => all[i]!));
        if (bytesToHex(x25519.getPublicKey(secret)).toLowerCase() === expectedPublicKey.toLowerCase()) return secret;
        secret.fill(0);
      }
    }
  } finally {
    for (const g of groups.values()) for (const p of g.points.values()) p.fill(0);
  }
  throw new KeyBackupError('RECOVERY_KEY_MISMATCH', "No set of the guardians' shares combines to the account's encryption key: too many shares are wrong or forged");
}

/** Every k-element subset of 0..n-1, in lexicographic order. */
function* subsets(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield [...idx];
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}
