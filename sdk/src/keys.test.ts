import { createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, recoverTypedDataAddress, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { deriveEncryptionKeyPair, keyDerivationTypedData, keyFingerprint } from './keys.ts';
import { ANVIL_ACCOUNTS } from './testing/anvil.ts';

const alice = privateKeyToAccount(ANVIL_ACCOUNTS[1]!.privateKey);
const bob = privateKeyToAccount(ANVIL_ACCOUNTS[2]!.privateKey);

/** An independent implementation of the derivation with Node's own crypto (OpenSSL). */
function deriveWithNodeCrypto(signature: Hex): { secret: Hex; publicKey: Hex } {
  const secret = Buffer.from(
    hkdfSync('sha256', hexToBytes(signature), 'consentry/key-derivation/v1', 'consentry x25519 encryption key', 32),
  );
  // RFC 8410 PKCS#8 wrapper for a raw X25519 private key.
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), secret]);
  const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
    format: 'der',
    type: 'spki',
  });
  return { secret: bytesToHex(secret), publicKey: bytesToHex(spki.subarray(spki.length - 32)) };
}

describe('keyDerivationTypedData', () => {
  it('is a fixed, chain-separated EIP-712 message the wallet can sign and anyone can verify', async () => {
    const td = keyDerivationTypedData(31337);
    const signature = await alice.signTypedData(td);
    expect(await recoverTypedDataAddress({ ...td, signature })).toBe(alice.address);
    expect(keyDerivationTypedData(1).domain.chainId).toBe(1);
    expect(td.message.version).toBe(1n);
  });
});

describe('deriveEncryptionKeyPair', () => {
  it('test vector: anvil account 1 on chain 31337', async () => {
    const signature = await alice.signTypedData(keyDerivationTypedData(31337));
    // Pinned: ECDSA per RFC 6979 is deterministic, so this signature, and so the key, never changes.
    expect(signature).toBe(VECTOR.signature);
    const pair = deriveEncryptionKeyPair(signature);
    expect(bytesToHex(pair.secretKey)).toBe(VECTOR.secretKey);
    expect(pair.publicKeyHex).toBe(VECTOR.publicKey);
    expect(keyFingerprint(pair.publicKey)).toBe(VECTOR.fingerprint);
  });

  it('agrees with an independent HKDF + X25519 implementation (node:crypto)', async () => {
    for (const account of [alice, bob]) {
      for (const chainId of [1, 31337]) {
        const signature = await account.signTypedData(keyDerivationTypedData(chainId));
        const ours = deriveEncryptionKeyPair(signature);
        const theirs = deriveWithNodeCrypto(signature);
        expect(bytesToHex(ours.secretKey)).toBe(theirs.secret);
        expect(ours.publicKeyHex).toBe(theirs.publicKey);
      }
    }
  });

  it('the same wallet always gives the same key; another wallet or chain gives another', async () => {
    const a1 = deriveEncryptionKeyPair(await alice.signTypedData(keyDerivationTypedData(31337)));
    const a2 = deriveEncryptionKeyPair(await alice.signTypedData(keyDerivationTypedData(31337)));
    const b = deriveEncryptionKeyPair(await bob.signTypedData(keyDerivationTypedData(31337)));
    const aOther = deriveEncryptionKeyPair(await alice.signTypedData(keyDerivationTypedData(1)));
    expect(a1.publicKeyHex).toBe(a2.publicKeyHex);
    expect(b.publicKeyHex).not.toBe(a1.publicKeyHex);
    expect(aOther.publicKeyHex).not.toBe(a1.publicKeyHex);
  });

  it('the derived keys agree on a shared secret (the key pair is usable for sealing)', async () => {
    const a = deriveEncryptionKeyPair(await alice.signTypedData(keyDerivationTypedData(31337)));
    const b = deriveEncryptionKeyPair(await bob.signTypedData(keyDerivationTypedData(31337)));
    expect(bytesToHex(x25519.getSharedSecret(a.secretKey, b.publicKey))).toBe(
      bytesToHex(x25519.getSharedSecret(b.secretKey, a.publicKey)),
    );
  });

  it('rejects anything that is not a 65-byte signature', () => {
    expect(() => deriveEncryptionKeyPair('0x1234')).toThrowError(/65-byte/);
    expect(() => deriveEncryptionKeyPair(`0x${'zz'.repeat(65)}` as Hex)).toThrowError(/65-byte/);
  });
});

const VECTOR = {
  signature:
    '0xc2cf3e14e1fec1dad2e53a0f0ed40d121e888ab71f5d2b4793e62328213b4b9f23e53644bc719bc59b6e685a43467f721cac8d038ceddddc1340eed6f5981cc91b',
  secretKey: '0x5c7009a66e4d9ea9fa644cc5cb67eeeb24bc3707e4a672e4811067e9e81367ee',
  publicKey: '0x03360ca411540f4888c508ce35f669d59ce3d6ef27f5e6028141ce4950ca1b65',
  fingerprint: '900f-78cc-5b11-a678',
};
