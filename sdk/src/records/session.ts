/**
 * Signing in to the records API (browser-safe): the wallet signs an EIP-712 message (free, no
 * transaction) naming its address and the time; the server checks the signature and answers with
 * a session cookie. This message can open nothing: the encryption key comes from another one.
 */
import type { Address } from 'viem';

export const SESSION_STATEMENT = 'Sign in to Consentry to store and read your encrypted records. This signs no transaction and costs nothing.';
/** A signed sign-in is accepted this long after (and before, for clock skew) its issue time. */
export const SESSION_SIGNATURE_WINDOW_S = 300;

export function sessionTypedData(chainId: number, address: Address, issuedAt: number) {
  return {
    domain: { name: 'Consentry', version: '1', chainId },
    types: {
      SignIn: [
        { name: 'statement', type: 'string' },
        { name: 'account', type: 'address' },
        { name: 'issuedAt', type: 'uint64' },
      ],
    },
    primaryType: 'SignIn',
    message: { statement: SESSION_STATEMENT, account: address, issuedAt: BigInt(issuedAt) },
  } as const;
}
