import { describe, expect, it } from 'vitest';
import { fromSignedLE, toSignedLE } from './memory.ts';

describe('graph-ts BigInt bytes (signed little-endian two\'s complement)', () => {
  it('encodes minimally, as graph-node does', () => {
    const hex = (v: bigint): string => Buffer.from(toSignedLE(v)).toString('hex');
    expect(hex(0n)).toBe('00');
    expect(hex(1n)).toBe('01');
    expect(hex(127n)).toBe('7f');
    expect(hex(128n)).toBe('8000');
    expect(hex(255n)).toBe('ff00');
    expect(hex(256n)).toBe('0001');
    expect(hex(-1n)).toBe('ff');
    expect(hex(-128n)).toBe('80');
    expect(hex(-129n)).toBe('7fff');
    expect(hex(1_750_000_000n)).toBe('80e14e68') // 0x684ee180;
  });

  it('round-trips', () => {
    const values = [0n, 1n, -1n, 127n, 128n, -128n, -129n, 2n ** 63n, -(2n ** 255n), 2n ** 256n - 1n, 31337n];
    for (const v of values) expect(fromSignedLE(toSignedLE(v))).toBe(v);
    expect(fromSignedLE(new Uint8Array())).toBe(0n);
  });
});
