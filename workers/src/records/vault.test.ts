// The vault's recovery tables (key backups, released shares, keyring) and the sealed-key replacement
// of a key rotation, on every vault database the tests run against (SQLite, PGlite, and PostgreSQL
// when TEST_DATABASE_URL is set): a new backup replaces the old one with all its shares; a released
// share is stored once; a keyring entry sealed again replaces the older one; a rotation changes only
// the patient's own versions and never brings an erased record's key back.
import { afterAll, describe, expect, it } from 'vitest';
import { vaultKinds } from './testing/vaults.ts';
import type { NewVersionRow, Vault } from './vault.ts';

const ACCOUNT = '0x00000000000000000000000000000000000000Aa';
const OTHER = '0x00000000000000000000000000000000000000bB';
const guardian = (i: number) => `0x${String(i).repeat(40)}`;
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

function version(patient: string, record: number, v: number, sealedKey: string | null = `sealed-${record}-${v}`): NewVersionRow {
  return {
    leafHash: hex32(record * 1000 + v),
    patient: patient.toLowerCase(),
    recordId: hex32(record),
    version: v,
    category: 'labs',
    resourceType: 'Observation',
    cid: `cid-${record}-${v}`,
    supersedes: hex32(0),
    reason: null,
    sealedKey,
    contentTag: hex32(record),
    createdAt: 1_700_000_000_000 + record,
    batchRoot: null,
    proof: null,
  };
}

for (const kind of vaultKinds()) {
  describe(`vault recovery tables (${kind.name})`, () => {
    let vault: Vault;
    afterAll(async () => {
      await vault?.close();
      await kind.cleanup();
    });

    it('keeps one key backup per account: a new one replaces the old with all its shares', async () => {
      vault = await kind.open();
      expect(await vault.keyBackup(ACCOUNT)).toBeNull();
      const first = { account: ACCOUNT, backupId: '0x01', threshold: 2, publicKey: '0xaa', createdAt: 1 };
      await vault.replaceKeyBackup(first, [1, 2, 3].map((i) => ({ account: ACCOUNT, guardian: guardian(i), sealedShare: `share-${i}` })));
      const stored = await vault.keyBackup(ACCOUNT.toUpperCase().replace('0X', '0x'));
      expect(stored).toMatchObject({ account: ACCOUNT.toLowerCase(), backupId: '0x01', threshold: 2, publicKey: '0xaa', createdAt: 1 });
      expect(stored!.shares.map((s) => [s.guardian, s.sealedShare])).toEqual([1, 2, 3].map((i) => [guardian(i), `share-${i}`]));

      // Guardians 2 and 4, threshold 2: guardian 1 and 3's shares are gone with the old backup.
      await vault.replaceKeyBackup({ ...first, backupId: '0x02', createdAt: 2 }, [2, 4].map((i) => ({ account: ACCOUNT, guardian: guardian(i), sealedShare: `new-${i}` })));
      const replaced = await vault.keyBackup(ACCOUNT);
      expect(replaced).toMatchObject({ backupId: '0x02', createdAt: 2 });
      expect(replaced!.shares.map((s) => [s.guardian, s.sealedShare])).toEqual([[guardian(2), 'new-2'], [guardian(4), 'new-4']]);
      expect(await vault.keyBackup(OTHER)).toBeNull();
    });

    it('stores a released share once per guardian and recovery', async () => {
      const row = { account: ACCOUNT, nonce: 1, guardian: guardian(2), releasedShare: 'released-2', createdAt: 5 };
      expect(await vault.insertReleasedShare(row)).toBe(true);
      expect(await vault.insertReleasedShare({ ...row, releasedShare: 'another', createdAt: 6 })).toBe(false);
      expect(await vault.insertReleasedShare({ ...row, guardian: guardian(1), releasedShare: 'released-1' })).toBe(true);
      expect(await vault.insertReleasedShare({ ...row, nonce: 2, releasedShare: 'second-recovery' })).toBe(true);
      const released = await vault.releasedShares(ACCOUNT, 1);
      expect(released.map((r) => [r.guardian, r.releasedShare])).toEqual([[guardian(1), 'released-1'], [guardian(2), 'released-2']]);
      expect((await vault.releasedShares(ACCOUNT, 2)).map((r) => r.releasedShare)).toEqual(['second-recovery']);
      expect(await vault.releasedShares(OTHER, 1)).toEqual([]);
    });

    it('keeps an account\'s earlier keys, the latest sealing of each', async () => {
      expect(await vault.putKeyring([{ account: ACCOUNT, publicKey: '0xAB', sealedSecret: 'old-to-k1', createdAt: 10 }])).toBe(1);
      await vault.putKeyring([
        { account: ACCOUNT, publicKey: '0xab', sealedSecret: 'old-to-k2', createdAt: 20 },
        { account: ACCOUNT, publicKey: '0xcd', sealedSecret: 'k1-to-k2', createdAt: 20 },
      ]);
      expect((await vault.keyring(ACCOUNT)).map((r) => [r.publicKey, r.sealedSecret])).toEqual([['0xab', 'old-to-k2'], ['0xcd', 'k1-to-k2']]);
      expect(await vault.keyring(OTHER)).toEqual([]);
    });

    it('replaces sealed keys of the patient\'s own versions only, never of an erased record', async () => {
      await vault.insertVersions([version(ACCOUNT, 1, 1), version(ACCOUNT, 1, 2), version(ACCOUNT, 2, 1), version(OTHER, 3, 1)]);
      await vault.erase({ recordId: hex32(2), patient: ACCOUNT.toLowerCase(), erasedAt: 1, reason: 'erased for the test' });
      const changed = await vault.replaceSealedKeys(ACCOUNT, [
        { recordId: hex32(1), version: 1, sealedKey: 'resealed-1-1' },
        { recordId: hex32(1), version: 2, sealedKey: 'resealed-1-2' },
        { recordId: hex32(2), version: 1, sealedKey: 'brought-back' },
        { recordId: hex32(3), version: 1, sealedKey: 'not-mine' },
        { recordId: hex32(1), version: 9, sealedKey: 'no-such-version' },
      ]);
      expect(changed).toBe(2);
      const keys = async (patient: string) => Object.fromEntries((await vault.versions(patient)).map((v) => [`${Number(v.recordId)}-${v.version}`, v.sealedKey]));
      expect(await keys(ACCOUNT)).toEqual({ '1-1': 'resealed-1-1', '1-2': 'resealed-1-2', '2-1': null });
      expect(await keys(OTHER)).toEqual({ '3-1': 'sealed-3-1' });
      expect(await vault.replaceSealedKeys(ACCOUNT, [])).toBe(0);
    });
  });
}
