import type { Address } from 'viem';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';
import { openKeyring, type KeyringEntry } from '@consentry/sdk/recovery/keyring';

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

/**
 * The account's first secret, opened from its keyring (sdk/recovery/keyring.ts) when the account has
 * rotated its key (decision 031): the zk identity, and so every per-study address and its payouts,
 * derives from it. Without a keyring the current secret is the root.
 */
const roots = new WeakMap<EncryptionKeyPair, Uint8Array>();

export function rememberIdentityRoot(pair: EncryptionKeyPair, root: Uint8Array): void {
  roots.set(pair, root);
  for (const l of listeners) l();
}

export function identityRootOf(pair: EncryptionKeyPair): Uint8Array {
  return roots.get(pair) ?? pair.secretKey;
}

/** Opens the signed-in account's keyring (GET /api/keyring) and remembers its root for `pair`. */
export async function loadIdentityRoot(pair: EncryptionKeyPair): Promise<void> {
  // Plain fetch: this module is in every page's bundle (ConnectWallet), records.client.ts is not.
  const res = await fetch('/api/keyring', { credentials: 'same-origin' });
  const body = (await res.json().catch(() => null)) as { entries?: KeyringEntry[]; error?: { message: string } } | null;
  if (!res.ok || !body?.entries) throw new Error(body?.error?.message ?? `Could not read your keyring (the server answered ${res.status})`);
  const { entries } = body;
  if (entries.length) rememberIdentityRoot(pair, openKeyring(entries, pair.secretKey).root);
}
