import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { keyringEntry, openKeyring } from './keyring.ts';

describe('keyring', () => {
  it('walks back from the current secret to the first one through two rotations', () => {
    const [k0, k1, k2] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const entries = [keyringEntry(k1!, x25519.getPublicKey(k2!)), keyringEntry(k0!, x25519.getPublicKey(k1!))];
    const { secrets, root } = openKeyring(entries, k2!);
    expect(bytesToHex(root)).toBe(bytesToHex(k0!));
    expect(secrets.size).toBe(3);
    // From the middle key only the older one opens; from an unrelated key nothing does.
    expect(bytesToHex(openKeyring(entries, k1!).root)).toBe(bytesToHex(k0!));
    const stranger = openKeyring(entries, randomBytes(32));
    expect(stranger.secrets.size).toBe(1);
  });

  it('an empty keyring: the current secret is the root', () => {
    const k = randomBytes(32);
    expect(openKeyring([], k).root).toBe(k);
  });
});
