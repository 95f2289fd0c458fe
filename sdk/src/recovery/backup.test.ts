import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { createKeySealer } from '../crypto/envelope.ts';
import { bytesToHex, type Address } from 'viem';
import { describe, expect, it } from 'vitest';
import { ANVIL_ACCOUNTS } from '../testing/anvil.ts';
import {
  readBackupShareHeader,
  readReleasedShareHeader,
  recoverSecretFromReleased,
  releaseBackupShare,
  splitKeyBackup,
  type RecoveryTerms,
} from './backup.ts';

const keyPair = () => {
  const secretKey = randomBytes(32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
};
const [account, g1, g2, g3, newWallet, other] = ANVIL_ACCOUNTS.slice(0, 6).map((a) => a.address) as Address[];

async function setUp(threshold = 2) {
  const patient = keyPair();
  const guardians = [g1!, g2!, g3!].map((address) => ({ address, ...keyPair() }));
  const backup = await splitKeyBackup({ secretKey: patient.secretKey, account: account!, guardians, threshold });
  const recoveryPair = keyPair();
  const recovery: RecoveryTerms = { account: account!, nonce: 1n, newController: newWallet!, recoveryKey: bytesToHex(recoveryPair.publicKey) };
  const release = (i: number, terms = recovery) =>
    releaseBackupShare({ sealedShare: backup.shares[i]!.sealedShare, guardianSecretKey: guardians[i]!.secretKey, recovery: terms });
  return { patient, guardians, backup, recovery, recoveryPair, release, expectedPublicKey: bytesToHex(patient.publicKey) };
}

describe('guardian key backup', () => {
  it('splits 2-of-3, each share names its guardian, and any two released shares give the secret back', async () => {
    const s = await setUp();
    expect(s.backup.publicKey).toBe(s.expectedPublicKey);
    expect(s.backup.shares.map((x) => x.guardian)).toEqual([g1, g2, g3]);
    const h = readBackupShareHeader(s.backup.shares[1]!.sealedShare);
    expect(h).toMatchObject({ account, guardian: g2, threshold: 2, count: 3, backupId: s.backup.backupId, accountPublicKey: s.expectedPublicKey });
    for (const pair of [[0, 1], [0, 2], [1, 2]]) {
      const released = pair.map((i) => s.release(i));
      expect(readReleasedShareHeader(released[0]!)).toMatchObject({ account, nonce: 1n, newController: newWallet, recoveryKey: s.recovery.recoveryKey });
      const secret = await recoverSecretFromReleased({ released, recoverySecretKey: s.recoveryPair.secretKey, recovery: s.recovery, expectedPublicKey: s.expectedPublicKey });
      expect(bytesToHex(secret)).toBe(bytesToHex(s.patient.secretKey));
    }
  });

  it('one guardian alone gets nothing: its share alone is refused, and it cannot open another guardian\'s share', async () => {
    const s = await setUp();
    await expect(
      recoverSecretFromReleased({ released: [s.release(0)], recoverySecretKey: s.recoveryPair.secretKey, recovery: s.recovery, expectedPublicKey: s.expectedPublicKey }),
    ).rejects.toThrow(/1 usable guardian share of the 2 needed/);
    expect(() =>
      releaseBackupShare({ sealedShare: s.backup.shares[1]!.sealedShare, guardianSecretKey: s.guardians[0]!.secretKey, recovery: s.recovery }),
    ).toThrow(/sealed to guardian .* key, not to the key of this wallet/);
  });

  it('a forged share does not yield a wrong key, and does not block the honest quorum', async () => {
    const s = await setUp();
    const forged = s.release(0);
    forged[forged.length - 60]! ^= 1; // breaks authentication
    await expect(
      recoverSecretFromReleased({ released: [forged, s.release(1)], recoverySecretKey: s.recoveryPair.secretKey, recovery: s.recovery, expectedPublicKey: s.expectedPublicKey }),
    ).rejects.toThrow(/1 usable guardian share of the 2 needed; refused: .* does not authenticate/);
    // An authenticated but wrong y: guardian 1 seals a random value with a valid header to the recovery key.
    const evil = await splitKeyBackup({ secretKey: randomBytes(32), account: account!, guardians: s.guardians, threshold: 2 });
    const wrongY = releaseBackupShare({ sealedShare: evil.shares[0]!.sealedShare, guardianSecretKey: s.guardians[0]!.secretKey, recovery: s.recovery });
    // Its header claims another account key, so it is refused before combining…
    await expect(
      recoverSecretFromReleased({ released: [wrongY, s.release(1)], recoverySecretKey: s.recoveryPair.secretKey, recovery: s.recovery, expectedPublicKey: s.expectedPublicKey }),
    ).rejects.toThrow(/backs up an older key/);
    // …and with all three present, the two honest shares still recover the key.
    const secret = await recoverSecretFromReleased({
      released: [wrongY, s.release(1), s.release(2)],
      recoverySecretKey: s.recoveryPair.secretKey,
      recovery: s.recovery,
      expectedPublicKey: s.expectedPublicKey,
    });
    expect(bytesToHex(secret)).toBe(bytesToHex(s.patient.secretKey));
    // A guardian writing its own code: the honest header (right account key), a random y, sealed to the
    // recovery key, so it authenticates. With one honest share it yields no key; with two it cannot block.
    const honest = s.release(0);
    const header = honest.subarray(0, honest.length - 105);
    const ad = concatBytes(new TextEncoder().encode('consentry/key-backup-release/v1'), header);
    const lying = concatBytes(header, createKeySealer(s.recoveryPair.publicKey)(randomBytes(32), ad));
    await expect(
      recoverSecretFromReleased({ released: [lying, s.release(1)], recoverySecretKey: s.recoveryPair.secretKey, recovery: s.recovery, expectedPublicKey: s.expectedPublicKey }),
    ).rejects.toThrow(/No set of the guardians' shares combines to the account's encryption key/);
    const again = await recoverSecretFromReleased({
      released: [lying, s.release(1), s.release(2)],
      recoverySecretKey: s.recoveryPair.secretKey,
      recovery: s.recovery,
      expectedPublicKey: s.expectedPublicKey,
    });
    expect(bytesToHex(again)).toBe(bytesToHex(s.patient.secretKey));
  });

  it('shares released for another recovery, or opened by another wallet, are refused in words', async () => {
    const s = await setUp();
    const otherTerms = { ...s.recovery, nonce: 2n };
    await expect(
      recoverSecretFromReleased({ released: [s.release(0, otherTerms), s.release(1, otherTerms)], recoverySecretKey: s.recoveryPair.secretKey, recovery: s.recovery, expectedPublicKey: s.expectedPublicKey }),
    ).rejects.toThrow(/for another recovery/);
    await expect(
      recoverSecretFromReleased({ released: [s.release(0), s.release(1)], recoverySecretKey: keyPair().secretKey, recovery: s.recovery, expectedPublicKey: s.expectedPublicKey }),
    ).rejects.toThrow(/not the recovery key the guardians approved/);
    expect(() => s.release(0, { ...s.recovery, account: other! })).toThrow(/backs up 0x/);
  });

  it('refuses fewer than 2 guardians, a threshold of 1, duplicates and the patient as guardian', async () => {
    const pair = keyPair();
    const gs = [g1!, g2!, g3!].map((address) => ({ address, publicKey: keyPair().publicKey }));
    await expect(splitKeyBackup({ secretKey: pair.secretKey, account: account!, guardians: gs.slice(0, 1), threshold: 1 })).rejects.toThrow(/2 to 10 guardians/);
    await expect(splitKeyBackup({ secretKey: pair.secretKey, account: account!, guardians: gs, threshold: 1 })).rejects.toThrow(/threshold must be from 2/);
    await expect(splitKeyBackup({ secretKey: pair.secretKey, account: account!, guardians: gs, threshold: 4 })).rejects.toThrow(/threshold must be from 2/);
    await expect(splitKeyBackup({ secretKey: pair.secretKey, account: account!, guardians: [gs[0]!, gs[0]!], threshold: 2 })).rejects.toThrow(/appears twice/);
    await expect(
      splitKeyBackup({ secretKey: pair.secretKey, account: account!, guardians: [gs[0]!, { address: account!, publicKey: pair.publicKey }], threshold: 2 }),
    ).rejects.toThrow(/their own guardian/);
  });
});
