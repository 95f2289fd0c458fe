import { describe, expect, it } from 'vitest';
import { eventId } from './ids.ts';

describe('eventId', () => {
  const tx = `0x${'AB'.repeat(32)}` as const;
  it('is the transaction hash followed by the log index as a big-endian uint32, lowercase', () => {
    expect(eventId(tx, 0)).toBe(`0x${'ab'.repeat(32)}00000000`);
    expect(eventId(tx, 1)).toBe(`0x${'ab'.repeat(32)}00000001`);
    expect(eventId(tx, 0x01020304)).toBe(`0x${'ab'.repeat(32)}01020304`);
    expect(eventId(tx, 0xffffffff)).toBe(`0x${'ab'.repeat(32)}ffffffff`);
  });
  it('refuses indexes that do not fit in a uint32', () => {
    expect(() => eventId(tx, -1)).toThrow(RangeError);
    expect(() => eventId(tx, 2 ** 32)).toThrow(RangeError);
  });
});
