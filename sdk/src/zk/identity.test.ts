import { poseidon1 } from 'poseidon-lite/poseidon1';
import { poseidon2 } from 'poseidon-lite/poseidon2';
import { describe, expect, it } from 'vitest';
import { identityCommitment, IdentityError, identitySecretFromSeed, nullifierFor } from './identity.ts';
import { FIELD } from './layout.ts';

const seed = new TextEncoder().encode('a test seed of more than sixteen bytes');

describe('identity', () => {
  it('derives one field secret per seed', () => {
    const secret = identitySecretFromSeed(seed);
    expect(secret).toBe(identitySecretFromSeed(seed.slice()));
    expect(secret > 0n && secret < FIELD).toBe(true);
    const other = seed.slice();
    other[0] = other[0]! ^ 1;
    expect(identitySecretFromSeed(other)).not.toBe(secret);
  });

  it('refuses seeds too short to be secret', () => {
    expect(() => identitySecretFromSeed(new Uint8Array(15))).toThrow(IdentityError);
    expect(() => identitySecretFromSeed(new Uint8Array(15))).toThrow(/at least 16 bytes/);
  });

  it('commits with Poseidon1 and nullifies with Poseidon2(secret, studyId)', () => {
    const secret = identitySecretFromSeed(seed);
    expect(identityCommitment(secret)).toBe(poseidon1([secret]));
    expect(nullifierFor(secret, 1n)).toBe(poseidon2([secret, 1n]));
    // One person, two studies: two unrelated nullifiers; two people, one study: two nullifiers.
    expect(nullifierFor(secret, 1n)).not.toBe(nullifierFor(secret, 2n));
    expect(nullifierFor(secret + 1n, 1n)).not.toBe(nullifierFor(secret, 1n));
  });

  it('refuses secrets outside the field', () => {
    for (const bad of [0n, -1n, FIELD]) {
      expect(() => identityCommitment(bad)).toThrow(IdentityError);
      expect(() => nullifierFor(bad, 1n)).toThrow(IdentityError);
    }
    expect(() => nullifierFor(1n, FIELD)).toThrow(/study id/);
  });
});
