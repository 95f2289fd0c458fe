import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '../keys.ts';
import { privateKeyToAccount } from 'viem/accounts';
import { ANVIL_ACCOUNTS } from '../testing/anvil.ts';
import { identitySecretFromSeed } from './identity.ts';
import { identitySeedFromEncryptionKey, studyAccount, studyAccountKey } from './study-account.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const be32 = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');

/** The same derivation on Node's OpenSSL, written from the documented formula. */
function opensslStudyKey(secret: bigint, studyId: bigint): bigint {
  const info = Buffer.concat([Buffer.from('consentry study account'), be32(studyId)]);
  const okm = Buffer.from(hkdfSync('sha256', be32(secret), Buffer.from('consentry/study-account/v1'), info, 48));
  return (BigInt(`0x${okm.toString('hex')}`) % (N - 1n)) + 1n;
}

describe('study accounts', () => {
  const secret = 0x1234_5678_9abc_def0_1234_5678_9abc_def0n;

  it('derive the documented HKDF-SHA256 key, checked against OpenSSL, for several studies', () => {
    for (const studyId of [1n, 2n, 42n, 2n ** 200n]) {
      expect(BigInt(studyAccountKey(secret, studyId))).toBe(opensslStudyKey(secret, studyId));
    }
  });

  it('are deterministic (recoverable) and differ per study and per person', () => {
    const a1 = studyAccount(secret, 1n).address;
    expect(studyAccount(secret, 1n).address).toBe(a1);
    const addresses = new Set([a1, studyAccount(secret, 2n).address, studyAccount(secret + 1n, 1n).address, studyAccount(secret + 1n, 2n).address]);
    expect(addresses.size).toBe(4);
  });

  it('are not the wallet, and the chain sees an ordinary address', async () => {
    const wallet = ANVIL_ACCOUNTS[7]!;
    const keys = deriveEncryptionKeyPair(await privateKeyToAccount(wallet.privateKey).signTypedData(keyDerivationTypedData(31337)));
    const seed = identitySeedFromEncryptionKey(keys.secretKey);
    expect(seed).toHaveLength(32);
    // The seed is not the encryption key, and is the same every time.
    expect(Buffer.from(seed).equals(Buffer.from(keys.secretKey))).toBe(false);
    expect(identitySeedFromEncryptionKey(keys.secretKey)).toEqual(seed);
    const account = studyAccount(identitySecretFromSeed(seed), 1n);
    expect(account.address).not.toBe(wallet.address);
    expect(account.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('refuse a zero or out-of-field secret or study id, in words', () => {
    expect(() => studyAccountKey(0n, 1n)).toThrow(/identity secret must be a non-zero element/);
    expect(() => studyAccountKey(secret, 0n)).toThrow(/study id must be a non-zero element/);
    expect(() => studyAccountKey(secret, 2n ** 254n)).toThrow(/study id/);
    expect(() => identitySeedFromEncryptionKey(new Uint8Array(31))).toThrow(/32 bytes/);
  });

  it('pins one vector, so a change to the derivation cannot pass unnoticed', () => {
    expect(studyAccount(1n, 1n).address).toBe(privateKeyToAccount(`0x${opensslStudyKey(1n, 1n).toString(16).padStart(64, '0')}`).address);
    expect(studyAccountKey(1n, 1n)).toMatchInlineSnapshot(`"0x8e66bba318d5095f7d60ca0e6b4a851a470a0111b5d3f00e33a54e4b1fdccf1f"`);
  });
});
