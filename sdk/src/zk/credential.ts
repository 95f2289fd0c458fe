/**
 * Issuer credentials: an accredited issuer (clinic) signs, with EdDSA-Poseidon on Baby Jubjub
 * (@zk-kit/eddsa-poseidon, verified in the circuit by circomlib's EdDSAPoseidonVerifier), the message
 *   m = Poseidon4(attrsHash, identityCommitment, issuedAt, expiresAt)
 * where attrsHash = Poseidon16(encodeAttributes(attributes)). The credential is JSON (bigints as
 * decimal strings) so it can be stored, sent and shown as is.
 *
 * Works in Node and in the browser (see loadEddsa below).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { poseidon4 } from 'poseidon-lite/poseidon4';
import { bytesToHex, hexToBytes, isHex, type Hex } from 'viem';
import { z } from 'zod';
import { ConsentryError } from '../errors.ts';
import { issuerLeaf } from './issuers-tree.ts';
import { attributesHash, attributesSchema, encodeAttributes, FIELD, UNBOUNDED } from './layout.ts';
import type { Attributes } from './types.ts';

type Eddsa = typeof import('@zk-kit/eddsa-poseidon');

// @zk-kit/eddsa-poseidon 1.1's ES module build names exports of the CommonJS `blakejs`, which Node 20
// cannot link; its CommonJS build works. Browsers (through the bundler) take the ES module. Hence the
// top-level await (ES2022): this module is ESM-only, like the rest of the sdk.
async function loadEddsa(): Promise<Eddsa> {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule === 'function') {
    const { createRequire } = proc.getBuiltinModule('node:module') as typeof import('node:module');
    return createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as Eddsa;
  }
  return import('@zk-kit/eddsa-poseidon');
}
const eddsa: Eddsa = await loadEddsa();

/** The issuer's leaf in the issuers tree, Poseidon2(Ax, Ay) (defined beside the tree, which the browser-safe prover uses). */
export { issuerLeaf };

/** A credential is malformed or its issuer key or times are unusable. */
export class CredentialError extends ConsentryError {
  constructor(message: string) {
    super('CREDENTIAL_INVALID', message);
    this.name = 'CredentialError';
  }
}

/** An issuer's signing key: a 32-byte EdDSA private key and its Baby Jubjub public key (Ax, Ay). */
export interface IssuerKey {
  privateKey: Hex;
  publicKey: readonly [bigint, bigint];
}

export interface Credential {
  version: 1;
  attributes: Attributes;
  /** Poseidon1(secret) of the patient, decimal. */
  identityCommitment: string;
  /** Unix seconds. */
  issuedAt: number;
  /** Unix seconds; the credential is valid strictly before this. */
  expiresAt: number;
  issuer: { publicKey: [string, string] };
  signature: { R8: [string, string]; S: string };
}

const MIN_SECRET_BYTES = 16;
const ISSUER_DOMAIN = new TextEncoder().encode('consentry/zk-issuer/v1');

/**
 * The issuer key for a secret (bytes, or hex). The EdDSA private key is SHA-256 of a domain tag and
 * the secret, so a secret of any length works and a secret reused elsewhere gives an unrelated key.
 */
export function issuerKeyFromSecret(secret: Uint8Array | Hex): IssuerKey {
  const bytes = typeof secret === 'string' ? (isHex(secret) ? hexToBytes(secret) : null) : secret;
  if (!bytes || bytes.length < MIN_SECRET_BYTES) throw new CredentialError(`An issuer secret must be at least ${MIN_SECRET_BYTES} bytes (bytes or 0x-hex)`);
  const input = new Uint8Array(ISSUER_DOMAIN.length + bytes.length);
  input.set(ISSUER_DOMAIN, 0);
  input.set(bytes, ISSUER_DOMAIN.length);
  const privateKey = sha256(input);
  const [ax, ay] = eddsa.derivePublicKey(privateKey);
  return { privateKey: bytesToHex(privateKey), publicKey: [BigInt(ax), BigInt(ay)] };
}

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/, 'must be a decimal integer').refine((s) => !/^[0-9]+$/.test(s) || BigInt(s) < FIELD, 'must be below the field size');
const seconds = z.number().int().min(0).max(Number(UNBOUNDED));

export const credentialSchema = z
  .object({
    version: z.literal(1),
    attributes: attributesSchema,
    identityCommitment: decimal,
    issuedAt: seconds,
    expiresAt: seconds,
    issuer: z.object({ publicKey: z.tuple([decimal, decimal]) }).strict(),
    signature: z.object({ R8: z.tuple([decimal, decimal]), S: decimal }).strict(),
  })
  .strict()
  .refine((c) => c.issuedAt < c.expiresAt, { message: 'expiresAt must be after issuedAt', path: ['expiresAt'] });

/** A credential from JSON, checked; CredentialError names each problem with its path. */
export function parseCredential(json: unknown): Credential {
  const parsed = credentialSchema.safeParse(json);
  if (!parsed.success) {
    throw new CredentialError(`The credential is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(credential)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as Credential;
}

/** The signed message: Poseidon4(attrsHash, identityCommitment, issuedAt, expiresAt). */
export function credentialMessage(c: { attributes: Attributes; identityCommitment: bigint | string; issuedAt: number; expiresAt: number }): bigint {
  return poseidon4([attributesHash(encodeAttributes(c.attributes)), BigInt(c.identityCommitment), BigInt(c.issuedAt), BigInt(c.expiresAt)]);
}

/** Signs a credential (throws AttributesError when the attributes cannot be encoded). */
export function signCredential(
  key: IssuerKey,
  input: { attributes: Attributes; identityCommitment: bigint; issuedAt: number; expiresAt: number },
): Credential {
  const { attributes, identityCommitment, issuedAt, expiresAt } = input;
  if (identityCommitment <= 0n || identityCommitment >= FIELD) throw new CredentialError('The identity commitment must be a field element other than 0');
  if (!Number.isInteger(issuedAt) || !Number.isInteger(expiresAt) || issuedAt < 0 || BigInt(expiresAt) > UNBOUNDED || issuedAt >= expiresAt) {
    throw new CredentialError(`A credential is issued at a whole second before it expires (got ${issuedAt} → ${expiresAt})`);
  }
  const message = credentialMessage(input);
  const sig = eddsa.signMessage(hexToBytes(key.privateKey), message);
  return {
    version: 1,
    attributes: structuredClone(attributes),
    identityCommitment: identityCommitment.toString(),
    issuedAt,
    expiresAt,
    issuer: { publicKey: [key.publicKey[0].toString(), key.publicKey[1].toString()] },
    signature: { R8: [BigInt(sig.R8[0]).toString(), BigInt(sig.R8[1]).toString()], S: BigInt(sig.S).toString() },
  };
}

/** Whether the credential is well formed and its signature verifies under its issuer's key (not whether the issuer is accredited). */
export function verifyCredential(c: Credential): boolean {
  try {
    const parsed = parseCredential(c);
    const message = credentialMessage(parsed);
    const signature = { R8: [BigInt(parsed.signature.R8[0]), BigInt(parsed.signature.R8[1])] as [bigint, bigint], S: BigInt(parsed.signature.S) };
    return eddsa.verifySignature(message, signature, [BigInt(parsed.issuer.publicKey[0]), BigInt(parsed.issuer.publicKey[1])]);
  } catch {
    return false;
  }
}
