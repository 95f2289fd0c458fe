/**
 * The paper backup: the patient's 32-byte X25519 encryption secret written as 24 words of the BIP-39
 * English list (256 bits of entropy plus an 8-bit SHA-256 checksum; @scure/bip39, audited). It is the
 * alternative to guardians a patient can choose: whoever holds the paper holds the key, so it is shown
 * only behind a confirmation and printed, never stored or sent (decision 031).
 *
 * The words are the secret itself, not a seed for a wallet: do not import them into a wallet, and a
 * wallet's own recovery phrase is not a Consentry paper backup.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english';
import { bytesToHex, type Hex } from 'viem';
import { ConsentryError } from '../errors.ts';

export const PAPER_WORDS = 24;

export class PaperBackupError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PaperBackupError';
  }
}

/** The 24 words of a secret key, space-separated. */
export function paperPhraseOf(secretKey: Uint8Array): string {
  if (secretKey.length !== 32) throw new PaperBackupError('PAPER_BAD_KEY', 'The encryption secret key must be 32 bytes');
  return entropyToMnemonic(secretKey, wordlist);
}

/**
 * The secret key a phrase writes, with each mistake said in words: a wrong number of words, a word
 * not on the list (by position), a checksum that fails (a word misread or two swapped), or, given the
 * account's key on chain, a phrase of another key.
 */
export function secretFromPaperPhrase(phrase: string, expectedPublicKey?: Hex): Uint8Array {
  const words = phrase.normalize('NFKD').toLowerCase().trim().split(/\s+/).filter(Boolean);
  if (words.length !== PAPER_WORDS) {
    throw new PaperBackupError('PAPER_WORD_COUNT', `A paper backup has ${PAPER_WORDS} words (got ${words.length})`);
  }
  const known = new Set(wordlist);
  const unknown = words.flatMap((w, i) => (known.has(w) ? [] : [`${i + 1} ("${w}")`]));
  if (unknown.length) throw new PaperBackupError('PAPER_UNKNOWN_WORD', `Not a backup word: word ${unknown.join(', word ')}`);
  let secret: Uint8Array;
  try {
    secret = mnemonicToEntropy(words.join(' '), wordlist);
  } catch (cause) {
    throw new PaperBackupError('PAPER_CHECKSUM', 'The words do not check: one is misread, or two are swapped', { cause });
  }
  if (expectedPublicKey && bytesToHex(x25519.getPublicKey(secret)).toLowerCase() !== expectedPublicKey.toLowerCase()) {
    secret.fill(0);
    throw new PaperBackupError('PAPER_WRONG_KEY', "These words are a valid backup, but of another key than this account's key on chain (an older backup?)");
  }
  return secret;
}
