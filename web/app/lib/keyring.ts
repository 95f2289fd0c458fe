import type { Address } from 'viem';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';

/**
 * The patient's encryption keys for this page's lifetime: in memory only. Never written to
 * localStorage or cookies, never sent to the server. Closing the tab forgets them; the wallet
 * derives the same key again on the next visit (docs/decisions/005, 004).
 */
const keys = new Map<string, EncryptionKeyPair>();
const listeners = new Set<() => void>();

export function rememberKey(address: Address, pair: EncryptionKeyPair): void {
  keys.set(address.toLowerCase(), pair);
  for (const l of listeners) l();
}

export function keyFor(address: Address | undefined): EncryptionKeyPair | undefined {
  return address ? keys.get(address.toLowerCase()) : undefined;
}

/** Wipes the secret bytes too, not just the reference. */
export function forgetKeys(): void {
  for (const pair of keys.values()) pair.secretKey.fill(0);
  keys.clear();
  for (const l of listeners) l();
}

/** For React's useSyncExternalStore. */
export function subscribeKeys(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
