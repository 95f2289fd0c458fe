/**
 * The patient's zero-knowledge identity seed and per-study enrolment accounts, both derived from the
 * patient's own key material (browser-safe; see docs/decisions/021-browser-proving.md).
 *
 *   wallet ──EIP-712 signature──► encryption secret key (decision 005)
 *          ──HKDF "zk identity"──► identity seed ──identitySecretFromSeed──► identity secret s
 *   s, studyId ──HKDF "study account"──► secp256k1 private key ──► the study's enrolment address
 *
 * Why: a study must not learn which wallet (and so which records, grants, payments) a participant
 * uses, and two studies must not be able to tell they share a participant. Each study therefore sees
 * a fresh address that only the holder of `s` can compute, and `s` comes from the wallet alone, so
 * nothing new has to be kept: the same wallet finds the same study addresses on any device.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, numberToBytes, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { ConsentryError } from '../errors.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** secp256k1 group order. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** BN254 scalar field (the circuit's field): identity secrets and study ids live below it. */
const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const IDENTITY_SALT = utf8('consentry/zk-identity/v1');
const IDENTITY_INFO = utf8('consentry zk identity seed');
const STUDY_ACCOUNT_SALT = utf8('consentry/study-account/v1');

export class StudyAccountError extends ConsentryError {
  constructor(message: string) {
    super('STUDY_ACCOUNT_INVALID', message);
    this.name = 'StudyAccountError';
  }
}

/**
 * The seed of the patient's zk identity (`identitySecretFromSeed(seed)` in identity.ts), from their
 * X25519 encryption secret key: HKDF-SHA256 with its own salt and info, so it says nothing about the
 * encryption key and the encryption key says nothing usable about it without this derivation.
 */
export function identitySeedFromEncryptionKey(encryptionSecretKey: Uint8Array): Uint8Array {
  if (encryptionSecretKey.length !== 32) throw new StudyAccountError('The encryption secret key must be 32 bytes');
  return hkdf(sha256, encryptionSecretKey, IDENTITY_SALT, IDENTITY_INFO, 32);
}

function fieldBytes(value: bigint, what: string): Uint8Array {
  if (value <= 0n || value >= BN254_R) throw new StudyAccountError(`The ${what} must be a non-zero element of the BN254 scalar field`);
  return numberToBytes(value, { size: 32 });
}

/**
 * The private key of the patient's enrolment account for `studyId`:
 * k = (HKDF-SHA256(ikm = s as 32 bytes, salt = "consentry/study-account/v1",
 *                   info = "consentry study account" ‖ studyId as 32 bytes, 48 bytes) mod (n − 1)) + 1,
 * n the secp256k1 order. 48 bytes (16 more than n) make the reduction's bias below 2^-128 (FIPS
 * 186-5 A.2.1); the `+ 1` keeps k out of 0. Deterministic: recoverable from the wallet alone.
 */
export function studyAccountKey(secret: bigint, studyId: bigint): Hex {
  const info = new Uint8Array([...utf8('consentry study account'), ...fieldBytes(studyId, 'study id')]);
  const okm = hkdf(sha256, fieldBytes(secret, 'identity secret'), STUDY_ACCOUNT_SALT, info, 48);
  const k = (BigInt(bytesToHex(okm)) % (SECP256K1_N - 1n)) + 1n;
  return bytesToHex(numberToBytes(k, { size: 32 }));
}

/** The patient's enrolment account for `studyId` (a viem local account: signs in this process). */
export function studyAccount(secret: bigint, studyId: bigint): PrivateKeyAccount {
  return privateKeyToAccount(studyAccountKey(secret, studyId));
}
