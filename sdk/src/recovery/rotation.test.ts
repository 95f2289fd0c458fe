import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { openSealedKey, sealKey } from '../crypto/envelope.ts';
import { toBase64, fromBase64 } from '../records/versions.ts';
import { resealVersions, type SealedVersion } from './rotation.ts';

const pair = () => {
  const secretKey = randomBytes(32);
  const publicKey = x25519.getPublicKey(secretKey);
  return { secretKey, publicKey, publicKeyHex: bytesToHex(publicKey) };
};

describe('resealVersions', () => {
  it('reseals every data key to the new key in batches, resumes after a failed batch, and skips what is done', async () => {
    const oldKey = pair();
    const newKey = pair();
    const deks = Array.from({ length: 7 }, () => randomBytes(32));
    const vault = new Map<string, SealedVersion>(
      deks.map((dek, i) => [`r${i}`, { recordId: `r${i}`, version: 1, sealedKey: toBase64(sealKey(dek, oldKey.publicKey)) }]),
    );
    let calls = 0;
    const flakySave = async (batch: SealedVersion[]) => {
      if (++calls === 2) throw new Error('network down');
      for (const v of batch) vault.set(v.recordId, v);
    };
    const seen: number[] = [];
    await expect(
      resealVersions({ versions: [...vault.values()], oldSecretKeys: [oldKey.secretKey], newKeyPair: newKey, save: flakySave, batchSize: 3, onProgress: (p) => seen.push(p.done) }),
    ).rejects.toThrow('network down');
    expect(seen).toEqual([3]);
    const result = await resealVersions({ versions: [...vault.values()], oldSecretKeys: [oldKey.secretKey], newKeyPair: newKey, save: flakySave, batchSize: 3 });
    expect(result).toMatchObject({ total: 7, done: 7, resealed: 4, alreadyRotated: 3, unopenable: [] });
    deks.forEach((dek, i) => expect(bytesToHex(openSealedKey(fromBase64(vault.get(`r${i}`)!.sealedKey), newKey.secretKey))).toBe(bytesToHex(dek)));
    // The old key opens none of them any more.
    for (const v of vault.values()) expect(() => openSealedKey(fromBase64(v.sealedKey), oldKey.secretKey)).toThrow();
  });

  it('reports versions no given key opens and leaves them as they are', async () => {
    const stranger = pair();
    const v = { recordId: 'x', version: 2, sealedKey: toBase64(sealKey(randomBytes(32), stranger.publicKey)) };
    const saved: SealedVersion[] = [];
    const result = await resealVersions({ versions: [v], oldSecretKeys: [pair().secretKey], newKeyPair: pair(), save: async (b) => void saved.push(...b) });
    expect(result.unopenable).toEqual([{ recordId: 'x', version: 2 }]);
    expect(saved).toEqual([]);
  });
});
