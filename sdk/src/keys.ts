import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { ConsentryError } from './errors.ts';

/**
 * The fixed EIP-712 message a patient signs to derive their encryption key.
 * Changing any field changes every patient's key: it is versioned, never edited.
 */
export const KEY_DERIVATION_MESSAGE = {
  purpose: 'Consentry encryption key',
  notice:
    'Signing this lets the Consentry app derive your encryption key on this device. It costs nothing and sends no transaction. Sign it only in the Consentry app.',
  version: 1n,
} as const;

const HKDF_SALT = new TextEncoder().encode('consentry/key-derivation/v1');
const HKDF_INFO = new TextEncoder().encode('consentry x25519 encryption key');

/** EIP-712 typed data for the key-derivation signature; the chain id separates deployments. */
export function keyDerivationTypedData(chainId: number) {
  return {
    domain: { name: 'Consentry', version: '1', chainId },
    types: {
      KeyDerivation: [
        { name: 'purpose', type: 'string' },
        { name: 'notice', type: 'string' },
        { name: 'version', type: 'uint256' },
      ],
    },
    primaryType: 'KeyDerivation',
    message: KEY_DERIVATION_MESSAGE,
  } as const;
}

export interface EncryptionKeyPair {
  /** X25519 secret key. Stays in the client's memory; never sent, never logged. */
  secretKey: Uint8Array;
  /** X25519 public key (RFC 7748 encoding), registered on chain. */
  publicKey: Uint8Array;
  publicKeyHex: Hex;
}

export class KeyDerivationError extends ConsentryError {
  constructor(message: string) {
    super('KEY_DERIVATION_FAILED', message);
    this.name = 'KeyDerivationError';
  }
}

/**
 * Derives the patient's X25519 key pair from their EIP-712 signature of the fixed message:
 * secret = HKDF-SHA256(ikm = signature, salt, info). Wallets sign deterministically (RFC 6979),
 * so the same wallet always yields the same key and the wallet is the only thing to keep.
 */
export function deriveEncryptionKeyPair(signature: Hex): EncryptionKeyPair {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    throw new KeyDerivationError('Expected a 65-byte ECDSA signature (0x + 130 hex characters)');
  }
  const secretKey = hkdf(sha256, hexToBytes(signature), HKDF_SALT, HKDF_INFO, 32);
  const publicKey = x25519.getPublicKey(secretKey);
  return { secretKey, publicKey, publicKeyHex: bytesToHex(publicKey) };
}

/** A short, human-comparable fingerprint of a public key (first 8 bytes of SHA-256, grouped). */
export function keyFingerprint(publicKey: Uint8Array | Hex): string {
  const bytes = typeof publicKey === 'string' ? hexToBytes(publicKey) : publicKey;
  const hex = bytesToHex(sha256(bytes)).slice(2, 18);
  return hex.match(/.{4}/g)!.join('-');
}
