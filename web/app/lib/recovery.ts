/**
 * What the Recovery page shows and the browser code computes alike, safe to render on the server too
 * (routes render there first; `*.client.ts` modules are left out of the server build): the chain's
 * recovery state as the page holds it, the guardian link, and times in words.
 */
import { getAddress, isAddress, isAddressEqual, type Address, type Hex } from 'viem';

/** What the page suggests as the recovery delay, and the contract's bounds (IPatientRegistry). */
export const DEFAULT_DELAY_HOURS = 48;
export const MIN_DELAY_HOURS = 24;
export const MAX_DELAY_HOURS = 30 * 24;
export const MAX_GUARDIANS = 10;

export const sameAddress = (a: string | null | undefined, b: string | null | undefined): boolean =>
  Boolean(a && b && isAddress(a) && isAddress(b) && isAddressEqual(a as Address, b as Address));

export interface ActiveRecovery {
  nonce: bigint;
  newController: Address;
  recoveryKey: Hex;
  /** The guardians who approved, in guardiansOf order. */
  approvedBy: Address[];
  approvalCount: number;
  startedAt: number;
  /** 0 until the threshold is reached. */
  readyAt: number;
}

export interface CompletedRecovery {
  nonce: bigint;
  previousController: Address;
  newController: Address;
  recoveryKey: Hex;
  completedAt: number;
}

export interface GuardianSet {
  guardians: Address[];
  threshold: number;
  /** Seconds. */
  recoveryDelay: number;
}

export interface RecoveryState extends GuardianSet {
  account: Address;
  registered: boolean;
  controller: Address | null;
  pendingChange: (GuardianSet & { effectiveAt: number }) | null;
  active: ActiveRecovery | null;
  completed: CompletedRecovery | null;
  /** The account's encryption key on chain (null when not registered). */
  encryptionKey: Hex | null;
  /** The chain's time (seconds) when read: waits are measured against it, not this computer's clock. */
  now: number;
}

export interface StoredBackup {
  backupId: Hex;
  threshold: number;
  publicKey: Hex;
  /** Unix seconds. */
  createdAt: number;
  shares: Array<{ guardian: Address; sealedShare: string }>;
}

/** Why a stored backup no longer backs up the account as it is on chain; empty when it is current. */
export function backupStaleness(backup: StoredBackup, state: RecoveryState): string[] {
  const reasons: string[] = [];
  if (!state.encryptionKey || backup.publicKey.toLowerCase() !== state.encryptionKey.toLowerCase()) {
    reasons.push('your encryption key changed after it was made');
  }
  const backed = new Set(backup.shares.map((s) => s.guardian.toLowerCase()));
  const current = new Set(state.guardians.map((g) => g.toLowerCase()));
  if (backed.size !== current.size || [...current].some((g) => !backed.has(g)) || backup.threshold !== state.threshold) {
    reasons.push('your guardians or their threshold changed after it was made');
  }
  return reasons;
}

/** The link a new wallet gives its guardians: the account, the wallet to move it to, and its key. */
export function recoveryLink(origin: string, r: { account: Address; newWallet: Address; recoveryKey: Hex }): string {
  const q = new URLSearchParams({ account: r.account, newWallet: r.newWallet, recoveryKey: r.recoveryKey });
  return `${origin}/recovery?${q.toString()}`;
}

export interface RecoveryRequest {
  account: Address | null;
  newWallet: Address | null;
  recoveryKey: Hex | null;
}

/** The link's parameters, each null when absent or not well formed. */
export function parseRecoveryRequest(params: URLSearchParams): RecoveryRequest {
  const addr = (v: string | null) => (v && isAddress(v) ? getAddress(v) : null);
  const key = params.get('recoveryKey');
  return { account: addr(params.get('account')), newWallet: addr(params.get('newWallet')), recoveryKey: key && /^0x[0-9a-fA-F]{64}$/.test(key) ? (key as Hex) : null };
}

/** A duration in hours and days, as people say it. */
export function hoursInWords(seconds: number): string {
  const h = Math.round(seconds / 3600);
  if (h < 48 || h % 24 !== 0) return `${h} hour${h === 1 ? '' : 's'}`;
  return `${h / 24} days`;
}

/** How long until `at` (chain seconds) from `now`, in words. */
export function untilInWords(at: number, now: number): string {
  const s = Math.max(0, at - now);
  if (s < 60) return 'less than a minute';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

export const chainTime = (seconds: number) => new Date(seconds * 1000);
