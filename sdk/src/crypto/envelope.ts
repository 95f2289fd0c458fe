/**
 * Envelope encryption of records (browser-safe).
 *
 * Each record version is encrypted with XChaCha20-Poly1305 under a fresh random 256-bit data key
 * (DEK); the record id, version and category are bound as associated data, so a ciphertext cannot be
 * passed off as another record, version or category. The DEK is then sealed to a recipient's X25519
 * public key (the patient's; later, each committee member's): an ephemeral X25519 key agreement,
 * HKDF-SHA256 over the shared secret bound to both public keys, and XChaCha20-Poly1305.
 *
 *   record ciphertext = 0x01 || nonce(24) || AEAD(plaintext)                     (overhead 41 bytes)
 *   sealed key        = 0x01 || ephemeralPublic(32) || nonce(24) || AEAD(DEK)    (105 bytes)
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ConsentryError } from '../errors.ts';

const FORMAT_V1 = 0x01;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const AD_DOMAIN = encoder.encode('consentry/record/v1');
const SEAL_SALT = encoder.encode('consentry/seal/v1');

// Random bytes are drawn from the system CSPRNG 16 KiB at a time: one call per ~250 records instead
// of three per record (the call, not the bytes, is what costs). Bytes handed out are wiped from the
// pool, so no two callers ever get the same bytes and none linger in memory.
let pool = new Uint8Array(0);
let poolOffset = 0;
function random(n: number): Uint8Array {
  if (poolOffset + n > pool.length) {
    pool.fill(0);
    pool = randomBytes(16_384);
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + n);
  pool.fill(0, poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/** Opening a ciphertext or a sealed key failed; the message says which part and why. */
export class DecryptionError extends ConsentryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DECRYPTION_FAILED', message, options);
    this.name = 'DecryptionError';
  }
}

export interface RecordContext {
  recordId: string;
  version: number;
  category: string;
}

/**
 * The associated data: a fixed domain, then each field length-prefixed, so no two different
 * (recordId, version, category) triples can encode to the same bytes.
 */
export function recordAssociatedData({ recordId, version, category }: RecordContext): Uint8Array {
  if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) {
    throw new RangeError(`record version must be an integer from 1 to 2^32-1 (got ${version})`);
  }
  const id = encoder.encode(recordId);
  const cat = encoder.encode(category);
  if (id.length > 0xffff || cat.length > 0xff) throw new RangeError('record id or category too long');
  const out = new Uint8Array(AD_DOMAIN.length + 2 + id.length + 4 + 1 + cat.length);
  const view = new DataView(out.buffer);
  let o = 0;
  out.set(AD_DOMAIN, o);
  o += AD_DOMAIN.length;
  view.setUint16(o, id.length);
  o += 2;
  out.set(id, o);
  o += id.length;
  view.setUint32(o, version);
  o += 4;
  view.setUint8(o, cat.length);
  o += 1;
  out.set(cat, o);
  return out;
}

/** Encrypts one record version under a fresh DEK. The caller seals the DEK and then forgets it. */
export function encryptRecord(input: RecordContext & { plaintext: Uint8Array }): { ciphertext: Uint8Array; dek: Uint8Array } {
  const dek = random(KEY_BYTES);
  const nonce = random(NONCE_BYTES);
  const body = xchacha20poly1305(dek, nonce, recordAssociatedData(input)).encrypt(input.plaintext);
  const ciphertext = new Uint8Array(1 + NONCE_BYTES + body.length);
  ciphertext[0] = FORMAT_V1;
  ciphertext.set(nonce, 1);
  ciphertext.set(body, 1 + NONCE_BYTES);
  return { ciphertext, dek };
}

/** Decrypts one record version; fails if the ciphertext, the DEK or the record context is not the original. */
export function decryptRecord(input: RecordContext & { ciphertext: Uint8Array; dek: Uint8Array }): Uint8Array {
  const { ciphertext, dek } = input;
  if (dek.length !== KEY_BYTES) throw new DecryptionError(`The data key must be ${KEY_BYTES} bytes (got ${dek.length})`);
  if (ciphertext.length < 1 + NONCE_BYTES + TAG_BYTES || ciphertext[0] !== FORMAT_V1) {
    throw new DecryptionError('The record ciphertext is truncated or not in a known format');
  }
  const nonce = ciphertext.subarray(1, 1 + NONCE_BYTES);
  try {
    return xchacha20poly1305(dek, nonce, recordAssociatedData(input)).decrypt(ciphertext.subarray(1 + NONCE_BYTES));
  } catch (cause) {
    throw new DecryptionError(
      'The record does not authenticate: its ciphertext was altered, or the data key, record id, version or category is not the one it was sealed with',
      { cause },
    );
  }
}

function sealingKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  if (shared.every((b) => b === 0)) throw new DecryptionError('The recipient key is a low-order point');
  const info = new Uint8Array(64);
  info.set(ephemeralPublic, 0);
  info.set(recipientPublic, 32);
  return hkdf(sha256, shared, SEAL_SALT, info, KEY_BYTES);
}

/**
 * A sealer for one recipient: seals many DEKs to the recipient's X25519 public key. The X25519
 * agreement (two scalar multiplications, ~95% of the cost of sealing) is done once per `batch`
 * seals under one ephemeral key; every seal still has its own random nonce and carries its
 * ephemeral public key, so each sealed key opens on its own. Reusing an ephemeral key for one
 * recipient reveals nothing more: the AEAD key is as secret as before, and nonces never repeat.
 * Optional associated data is authenticated with the key (not carried: the opener must give the same
 * bytes); with none, the format is exactly the patient's sealed key. Committee shares use it to bind
 * their header (member, epoch, threshold, record) to the sealed share (see shares.ts).
 */
export function createKeySealer(
  recipientPublicKey: Uint8Array,
  { batch = 256 }: { batch?: number } = {},
): (dek: Uint8Array, associatedData?: Uint8Array) => Uint8Array {
  if (recipientPublicKey.length !== 32) throw new RangeError('An X25519 public key is 32 bytes');
  let ephemeralPublic: Uint8Array = new Uint8Array(0);
  let key: Uint8Array = new Uint8Array(0);
  let used = batch;
  return (dek, associatedData) => {
    if (dek.length !== KEY_BYTES) throw new RangeError(`A data key is ${KEY_BYTES} bytes (got ${dek.length})`);
    if (used >= batch) {
      const ephemeralSecret = random(32);
      ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
      let shared: Uint8Array;
      try {
        shared = x25519.getSharedSecret(ephemeralSecret, recipientPublicKey);
      } catch (cause) {
        throw new DecryptionError('The recipient key is not a usable X25519 public key', { cause });
      }
      key = sealingKey(shared, ephemeralPublic, recipientPublicKey);
      used = 0;
    }
    used++;
    const nonce = random(NONCE_BYTES);
    const body = xchacha20poly1305(key, nonce, associatedData).encrypt(dek);
    const sealed = new Uint8Array(1 + 32 + NONCE_BYTES + body.length);
    sealed[0] = FORMAT_V1;
    sealed.set(ephemeralPublic, 1);
    sealed.set(nonce, 33);
    sealed.set(body, 33 + NONCE_BYTES);
    return sealed;
  };
}

/** Seals one DEK to a recipient's X25519 public key (anyone can seal; only the recipient opens). */
export function sealKey(dek: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  return createKeySealer(recipientPublicKey, { batch: 1 })(dek);
}

/**
 * An opener for one recipient: opens sealed DEKs with the recipient's X25519 secret key, doing the
 * key agreement once per distinct ephemeral key (see createKeySealer). Associated data, if the key
 * was sealed with some, must be given again, byte for byte.
 */
export function createKeyOpener(recipientSecretKey: Uint8Array): (sealed: Uint8Array, associatedData?: Uint8Array) => Uint8Array {
  const recipientPublic = x25519.getPublicKey(recipientSecretKey);
  const keys = new Map<string, Uint8Array>();
  const keyFor = (ephemeralPublic: Uint8Array): Uint8Array => {
    const id = ephemeralPublic.join(',');
    let key = keys.get(id);
    if (!key) {
      let shared: Uint8Array;
      try {
        shared = x25519.getSharedSecret(recipientSecretKey, ephemeralPublic);
      } catch (cause) {
        throw new DecryptionError('The sealed data key carries an invalid ephemeral key', { cause });
      }
      key = sealingKey(shared, ephemeralPublic, recipientPublic);
      if (keys.size > 4096) keys.clear();
      keys.set(id, key);
    }
    return key;
  };
  return (sealed, associatedData) => {
    if (sealed.length !== 1 + 32 + NONCE_BYTES + KEY_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) {
      throw new DecryptionError('The sealed data key is truncated or not in a known format');
    }
    const key = keyFor(sealed.subarray(1, 33));
    try {
      return xchacha20poly1305(key, sealed.subarray(33, 33 + NONCE_BYTES), associatedData).decrypt(
        sealed.subarray(33 + NONCE_BYTES),
      );
    } catch (cause) {
      throw new DecryptionError('The sealed data key does not open with this key: wrong key, or the sealed key was altered', {
        cause,
      });
    }
  };
}

/** Opens one sealed DEK with the recipient's X25519 secret key. */
export function openSealedKey(sealed: Uint8Array, recipientSecretKey: Uint8Array): Uint8Array {
  return createKeyOpener(recipientSecretKey)(sealed);
}
