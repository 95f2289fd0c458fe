import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '../keys.ts';
import { ANVIL_ACCOUNTS } from '../testing/anvil.ts';
import {
  DecryptionError,
  decryptRecord,
  encryptRecord,
  openSealedKey,
  createKeyOpener,
  createKeySealer,
  recordAssociatedData,
  sealKey,
} from './envelope.ts';

const ctx = { recordId: '0x' + 'ab'.repeat(32), version: 1, category: 'labs' };
const plaintext = new TextEncoder().encode('{"resourceType":"Observation","id":"synthetic-1"}');
const patient = deriveEncryptionKeyPair(
  await privateKeyToAccount(ANVIL_ACCOUNTS[1]!.privateKey).signTypedData(keyDerivationTypedData(31337)),
);
const other = deriveEncryptionKeyPair(
  await privateKeyToAccount(ANVIL_ACCOUNTS[2]!.privateKey).signTypedData(keyDerivationTypedData(31337)),
);

const flip = (bytes: Uint8Array, index: number) => {
  const copy = bytes.slice();
  copy[index] = copy[index]! ^ 0x01;
  return copy;
};

describe('encryptRecord / decryptRecord', () => {
  it('round-trips, with a fresh data key and nonce every time', () => {
    const a = encryptRecord({ ...ctx, plaintext });
    const b = encryptRecord({ ...ctx, plaintext });
    expect(decryptRecord({ ...ctx, ciphertext: a.ciphertext, dek: a.dek })).toEqual(plaintext);
    expect(bytesToHex(a.dek)).not.toBe(bytesToHex(b.dek));
    expect(bytesToHex(a.ciphertext)).not.toBe(bytesToHex(b.ciphertext));
    expect(a.ciphertext.length).toBe(plaintext.length + 41);
  });

  it('the ciphertext does not contain the plaintext', () => {
    const { ciphertext } = encryptRecord({ ...ctx, plaintext });
    expect(Buffer.from(ciphertext).includes(Buffer.from('Observation'))).toBe(false);
  });

  it.each([
    ['record id', { recordId: '0x' + 'cd'.repeat(32) }],
    ['version', { version: 2 }],
    ['category', { category: 'mental-health' }],
  ])('fails when the %s differs from the one it was encrypted with', (_what, change) => {
    const { ciphertext, dek } = encryptRecord({ ...ctx, plaintext });
    expect(() => decryptRecord({ ...ctx, ...change, ciphertext, dek })).toThrowError(DecryptionError);
  });

  it('fails on any altered byte of the ciphertext (format byte, nonce, body, tag)', () => {
    const { ciphertext, dek } = encryptRecord({ ...ctx, plaintext });
    for (const i of [0, 1, 24, 25, 30, ciphertext.length - 1]) {
      expect(() => decryptRecord({ ...ctx, ciphertext: flip(ciphertext, i), dek }), `byte ${i}`).toThrowError(
        DecryptionError,
      );
    }
  });

  it('fails with another data key, a short key, or a truncated ciphertext, in words', () => {
    const { ciphertext, dek } = encryptRecord({ ...ctx, plaintext });
    expect(() => decryptRecord({ ...ctx, ciphertext, dek: flip(dek, 0) })).toThrowError(/does not authenticate/);
    expect(() => decryptRecord({ ...ctx, ciphertext, dek: dek.subarray(0, 16) })).toThrowError(/32 bytes/);
    expect(() => decryptRecord({ ...ctx, ciphertext: ciphertext.subarray(0, 30), dek })).toThrowError(/truncated/);
  });

  it('encodes the associated data injectively (length-prefixed fields)', () => {
    const a = recordAssociatedData({ recordId: 'ab', version: 1, category: 'c' });
    const b = recordAssociatedData({ recordId: 'a', version: 1, category: 'bc' });
    expect(bytesToHex(a)).not.toBe(bytesToHex(b));
    expect(() => recordAssociatedData({ ...ctx, version: 0 })).toThrowError(RangeError);
  });
});

describe('sealKey / openSealedKey', () => {
  it('only the recipient opens the sealed data key', () => {
    const { dek } = encryptRecord({ ...ctx, plaintext });
    const sealed = sealKey(dek, patient.publicKey);
    expect(sealed.length).toBe(105);
    expect(openSealedKey(sealed, patient.secretKey)).toEqual(dek);
    expect(() => openSealedKey(sealed, other.secretKey)).toThrowError(/does not open with this key/);
  });

  it('sealing twice gives different bytes (fresh ephemeral key and nonce)', () => {
    const { dek } = encryptRecord({ ...ctx, plaintext });
    expect(bytesToHex(sealKey(dek, patient.publicKey))).not.toBe(bytesToHex(sealKey(dek, patient.publicKey)));
  });

  it('fails on any altered byte of the sealed key (format, ephemeral key, nonce, body)', () => {
    const { dek } = encryptRecord({ ...ctx, plaintext });
    const sealed = sealKey(dek, patient.publicKey);
    for (const i of [0, 1, 32, 33, 56, 57, 104]) {
      expect(() => openSealedKey(flip(sealed, i), patient.secretKey), `byte ${i}`).toThrowError(DecryptionError);
    }
    expect(() => openSealedKey(sealed.subarray(0, 100), patient.secretKey)).toThrowError(/truncated/);
  });

  it('refuses to seal to a low-order point', () => {
    const lowOrder = new Uint8Array(32); // u = 0
    expect(() => sealKey(new Uint8Array(32), lowOrder)).toThrowError(DecryptionError);
  });

  it('a full envelope: encrypt, seal to the patient, open, decrypt', () => {
    const { ciphertext, dek } = encryptRecord({ ...ctx, plaintext });
    const sealed = sealKey(dek, patient.publicKey);
    const opened = openSealedKey(sealed, patient.secretKey);
    expect(new TextDecoder().decode(decryptRecord({ ...ctx, ciphertext, dek: opened }))).toContain('synthetic-1');
    // The patient's public key is the X25519 image of their secret: sealing uses nothing else.
    expect(bytesToHex(x25519.getPublicKey(patient.secretKey))).toBe(patient.publicKeyHex);
  });
});

describe('createKeySealer / createKeyOpener (batched key agreement)', () => {
  it('every sealed key of a batch opens on its own, and with a shared opener', () => {
    const seal = createKeySealer(patient.publicKey, { batch: 4 });
    const deks = Array.from({ length: 10 }, () => encryptRecord({ ...ctx, plaintext }).dek);
    const sealed = deks.map((d) => seal(d));
    // 10 seals with batch 4 use 3 ephemeral keys.
    expect(new Set(sealed.map((s) => bytesToHex(s.subarray(1, 33)))).size).toBe(3);
    const open = createKeyOpener(patient.secretKey);
    sealed.forEach((s, i) => {
      expect(open(s)).toEqual(deks[i]);
      expect(openSealedKey(s, patient.secretKey)).toEqual(deks[i]);
    });
    expect(() => createKeyOpener(other.secretKey)(sealed[0]!)).toThrowError(DecryptionError);
    expect(() => open(flip(sealed[5]!, 60))).toThrowError(DecryptionError);
  });
});

describe('associated data on sealed keys', () => {
  it('binds the given bytes: same length and format, opens only with the same bytes', () => {
    const { dek } = encryptRecord({ ...ctx, plaintext });
    const ad = new TextEncoder().encode('header');
    const sealed = createKeySealer(patient.publicKey)(dek, ad);
    expect(sealed.length).toBe(105);
    const open = createKeyOpener(patient.secretKey);
    expect(open(sealed, ad)).toEqual(dek);
    expect(() => open(sealed)).toThrowError(DecryptionError);
    expect(() => open(sealed, flip(ad, 0))).toThrowError(DecryptionError);
    // No associated data and empty associated data are the same (the patient's format is unchanged).
    expect(open(sealKey(dek, patient.publicKey), new Uint8Array(0))).toEqual(dek);
  });

  it('seals only 32-byte data keys', () => {
    expect(() => sealKey(new Uint8Array(33), patient.publicKey)).toThrowError(/32 bytes/);
  });
});
