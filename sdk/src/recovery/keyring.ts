/**
 * The account's keyring (browser-safe; decision 031): every earlier X25519 secret of the account,
 * each sealed to the key that replaced it, kept by the vault as ciphertext (GET/POST /api/keyring).
 *
 *   key0 ──rotation──► key1 ──rotation──► key2 (current, derived from the controlling wallet)
 *   entries: {publicKey: key0, sealed to key1}, {publicKey: key1, sealed to key2}
 *
 * From the current secret the client opens the newest entry, and with what it opened the one
 * before, back to the account's first secret, its root. The root is what the zk identity derives
 * from (web/app/lib/zk.client.ts), so the per-study enrolment addresses, and so the consent tokens'
 * payouts, stay the account's after any number of rotations and recoveries.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, type Hex } from 'viem';
import { createKeyOpener, DecryptionError, sealKey } from '../crypto/envelope.ts';
import { fromBase64, toBase64 } from '../records/versions.ts';

export interface KeyringEntry {
  /** The X25519 public key of the secret sealed inside. */
  publicKey: Hex;
  /** Base64 of the secret sealed (105 bytes) to the key that replaced it. */
  sealedSecret: string;
  createdAt?: number;
}

/** The entry a rotation writes: the old secret sealed to the new public key. */
export function keyringEntry(oldSecretKey: Uint8Array, newPublicKey: Uint8Array): KeyringEntry {
  return { publicKey: bytesToHex(x25519.getPublicKey(oldSecretKey)), sealedSecret: toBase64(sealKey(oldSecretKey, newPublicKey)) };
}

/**
 * Opens what the current secret reaches: every earlier secret (by public key, lowercase hex) and the
 * root, the oldest secret reached (the current one when the keyring is empty). Entries sealed to a key
 * not reached (a keyring written by someone else, or damaged) are left closed, not an error.
 */
export function openKeyring(entries: readonly KeyringEntry[], currentSecretKey: Uint8Array): { secrets: Map<string, Uint8Array>; root: Uint8Array } {
  const secrets = new Map<string, Uint8Array>([[bytesToHex(x25519.getPublicKey(currentSecretKey)).toLowerCase(), currentSecretKey]]);
  const order: Uint8Array[] = [currentSecretKey];
  let pending = entries.filter((e) => !secrets.has(e.publicKey.toLowerCase()));
  let progressed = true;
  while (pending.length && progressed) {
    progressed = false;
    for (const entry of pending) {
      for (const secret of order) {
        let opened: Uint8Array;
        try {
          opened = createKeyOpener(secret)(fromBase64(entry.sealedSecret));
        } catch (err) {
          if (err instanceof DecryptionError) continue;
          throw err;
        }
        if (bytesToHex(x25519.getPublicKey(opened)).toLowerCase() !== entry.publicKey.toLowerCase()) continue;
        secrets.set(entry.publicKey.toLowerCase(), opened);
        order.push(opened);
        progressed = true;
        break;
      }
    }
    pending = pending.filter((e) => !secrets.has(e.publicKey.toLowerCase()));
  }
  return { secrets, root: order[order.length - 1]! };
}
