import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { paperPhraseOf, secretFromPaperPhrase } from './paper.ts';

describe('paper backup', () => {
  it('writes 24 words and reads the same secret back, checked against the account key', () => {
    const secret = randomBytes(32);
    const phrase = paperPhraseOf(secret);
    expect(phrase.split(' ')).toHaveLength(24);
    const back = secretFromPaperPhrase(`  ${phrase.toUpperCase().replaceAll(' ', '\n ')} `, bytesToHex(x25519.getPublicKey(secret)));
    expect(bytesToHex(back)).toBe(bytesToHex(secret));
  });

  it('says what is wrong: word count, unknown word, checksum, another key', () => {
    const secret = randomBytes(32);
    const words = paperPhraseOf(secret).split(' ');
    expect(() => secretFromPaperPhrase(words.slice(0, 23).join(' '))).toThrow(/24 words \(got 23\)/);
    expect(() => secretFromPaperPhrase([...words.slice(0, 4), 'consentry', ...words.slice(5)].join(' '))).toThrow(/word 5 \("consentry"\)/);
    const swapped = [...words];
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    if (swapped[0] !== swapped[1]) {
      // A swap changes the entropy; the 8-bit checksum catches it unless it happens to match (1 in 256).
      const result = (() => {
        try {
          return bytesToHex(secretFromPaperPhrase(swapped.join(' ')));
        } catch (err) {
          return (err as Error).message;
        }
      })();
      expect(result === bytesToHex(secret) ? 'same' : result).not.toBe('same');
    }
    expect(() => secretFromPaperPhrase(words.join(' '), bytesToHex(x25519.getPublicKey(randomBytes(32))))).toThrow(/another key/);
  });
});
