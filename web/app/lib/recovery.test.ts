import type { Address, Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { backupStaleness, hoursInWords, parseRecoveryRequest, recoveryLink, sameAddress, untilInWords, type RecoveryState, type StoredBackup } from './recovery.ts';

const [account, g1, g2, g3, newWallet] = ANVIL_ACCOUNTS.slice(0, 5).map((a) => a.address) as Address[];
const key: Hex = `0x${'11'.repeat(32)}`;

const state = (over: Partial<RecoveryState> = {}): RecoveryState => ({
  account: account!,
  registered: true,
  controller: account!,
  guardians: [g1!, g2!, g3!],
  threshold: 2,
  recoveryDelay: 48 * 3600,
  pendingChange: null,
  active: null,
  completed: null,
  encryptionKey: key,
  now: 1_800_000_000,
  ...over,
});
const backup = (over: Partial<StoredBackup> = {}): StoredBackup => ({
  backupId: `0x${'ab'.repeat(16)}`,
  threshold: 2,
  publicKey: key,
  createdAt: 1_799_000_000,
  shares: [g3!, g1!, g2!].map((guardian) => ({ guardian: guardian.toLowerCase() as Address, sealedShare: 'AA==' })),
  ...over,
});

describe('the recovery page in words', () => {
  it('a backup is current while it backs up the key and the guardians on chain, in any order and case', () => {
    expect(backupStaleness(backup(), state())).toEqual([]);
    expect(backupStaleness(backup(), state({ encryptionKey: `0x${'22'.repeat(32)}` }))).toEqual(['your encryption key changed after it was made']);
    expect(backupStaleness(backup(), state({ guardians: [g1!, g2!] }))).toEqual(['your guardians or their threshold changed after it was made']);
    expect(backupStaleness(backup(), state({ threshold: 3 }))).toEqual(['your guardians or their threshold changed after it was made']);
  });

  it("the guardians' link carries the account, the new wallet and its recovery key, and reads back; anything malformed is dropped", () => {
    const link = recoveryLink('https://consentry.example', { account: account!, newWallet: newWallet!, recoveryKey: key });
    const url = new URL(link);
    expect(url.pathname).toBe('/recovery');
    expect(parseRecoveryRequest(url.searchParams)).toEqual({ account, newWallet, recoveryKey: key });
    expect(parseRecoveryRequest(new URLSearchParams({ account: account!.toLowerCase(), newWallet: '0x123', recoveryKey: '0xzz' }))).toEqual({ account, newWallet: null, recoveryKey: null });
    expect(sameAddress(account!.toLowerCase(), account)).toBe(true);
    expect(sameAddress('not an address', account)).toBe(false);
  });

  it('says waits as people do', () => {
    expect(hoursInWords(48 * 3600)).toBe('2 days');
    expect(hoursInWords(36 * 3600)).toBe('36 hours');
    expect(hoursInWords(3600)).toBe('1 hour');
    expect(untilInWords(1000 + 47 * 3600 + 59 * 60 + 30, 1000)).toBe('47 h 59 min');
    expect(untilInWords(1000 + 600, 1000)).toBe('10 min');
    expect(untilInWords(1000, 2000)).toBe('less than a minute');
  });
});
