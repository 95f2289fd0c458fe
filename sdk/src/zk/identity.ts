/**
 * The patient's zero-knowledge identity: a field element `secret` known only to the patient, its
 * public commitment Poseidon1(secret) (what an issuer signs into a credential), and the per-study
 * nullifier Poseidon2(secret, studyId) (one enrollment per person per study, unlinkable across
 * studies). Browser-safe: no Node imports.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { poseidon1 } from 'poseidon-lite/poseidon1';
import { poseidon2 } from 'poseidon-lite/poseidon2';
import { ConsentryError } from '../errors.ts';
import { FIELD } from './layout.ts';

/** A seed too short to be secret, or a value outside the field. */
export class IdentityError extends ConsentryError {
  constructor(message: string) {
    super('IDENTITY_INVALID', message);
    this.name = 'IdentityError';
  }
}

/** Seeds shorter than this cannot hold 128 bits of secrecy. */
const MIN_SEED_BYTES = 16;
// Versioned domain: the same seed (say, a wallet-derived key) used elsewhere gives an unrelated secret.
const DOMAIN = new TextEncoder().encode('consentry/zk-identity/v1');

const bytesToBigInt = (bytes: Uint8Array): bigint => bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);

/**
 * The identity secret for a seed: SHA-512 of a domain tag, a counter and the seed, reduced into the
 * field (512 bits, so the reduction bias is negligible). Never 0: a 0 hash (practically impossible)
 * moves to the next counter.
 */
export function identitySecretFromSeed(seed: Uint8Array): bigint {
  if (!(seed instanceof Uint8Array) || seed.length < MIN_SEED_BYTES) {
    throw new IdentityError(`An identity seed must be at least ${MIN_SEED_BYTES} bytes`);
  }
  for (let counter = 0; ; counter++) {
    const input = new Uint8Array(DOMAIN.length + 1 + seed.length);
    input.set(DOMAIN, 0);
    input[DOMAIN.length] = counter;
    input.set(seed, DOMAIN.length + 1);
    const secret = bytesToBigInt(sha512(input)) % FIELD;
    if (secret !== 0n) return secret;
  }
}

function checkSecret(secret: bigint): void {
  if (typeof secret !== 'bigint' || secret <= 0n || secret >= FIELD) {
    throw new IdentityError('An identity secret must be a field element other than 0');
  }
}

/** Poseidon1(secret): public, carried in the credential. */
export function identityCommitment(secret: bigint): bigint {
  checkSecret(secret);
  return poseidon1([secret]);
}

/** Poseidon2(secret, studyId): public in the proof; the same person gets the same one per study. */
export function nullifierFor(secret: bigint, studyId: bigint): bigint {
  checkSecret(secret);
  if (typeof studyId !== 'bigint' || studyId < 0n || studyId >= FIELD) throw new IdentityError('A study id must be a field element');
  return poseidon2([secret, studyId]);
}
