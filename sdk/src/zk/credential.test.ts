import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { credentialMessage, CredentialError, issuerKeyFromSecret, issuerLeaf, parseCredential, signCredential, verifyCredential, type Credential } from './credential.ts';
import { identityCommitment, identitySecretFromSeed } from './identity.ts';
import { AttributesError } from './layout.ts';
import type { Attributes } from './types.ts';

const eddsa = createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as typeof import('@zk-kit/eddsa-poseidon');
const enc = (s: string) => new TextEncoder().encode(s);
const issuer = issuerKeyFromSecret(enc('credential-test-issuer-0'));
const otherIssuer = issuerKeyFromSecret(enc('credential-test-issuer-1'));
const secret = identitySecretFromSeed(enc('credential-test-patient-seed'));
const attributes: Attributes = { birthDate: '1980-05-17', sex: 'male', smoker: 'never', conditions: ['E11.9'], measures: { hba1c: 7.1 } };
const input = { attributes, identityCommitment: identityCommitment(secret), issuedAt: 1_767_000_000, expiresAt: 1_798_536_000 };

describe('issuer keys', () => {
  it('derive deterministically from a secret, bytes or hex', () => {
    const again = issuerKeyFromSecret(enc('credential-test-issuer-0'));
    expect(again).toEqual(issuer);
    const hex = `0x${Buffer.from('credential-test-issuer-0').toString('hex')}` as const;
    expect(issuerKeyFromSecret(hex)).toEqual(issuer);
    expect(otherIssuer.publicKey).not.toEqual(issuer.publicKey);
    expect(issuer.privateKey).toMatch(/^0x[0-9a-f]{64}$/);
    // The public key is the library's own derivation from the private key.
    expect(eddsa.derivePublicKey(Buffer.from(issuer.privateKey.slice(2), 'hex')).map(BigInt)).toEqual([...issuer.publicKey]);
  });

  it('refuse short or non-hex secrets', () => {
    expect(() => issuerKeyFromSecret(enc('short'))).toThrow(CredentialError);
    expect(() => issuerKeyFromSecret('not hex at all, but long enough' as `0x${string}`)).toThrow(/at least 16 bytes/);
  });

  it('hash to a leaf Poseidon2(Ax, Ay)', async () => {
    const { poseidon2 } = await import('poseidon-lite/poseidon2');
    expect(issuerLeaf(issuer.publicKey)).toBe(poseidon2([...issuer.publicKey]));
  });
});

describe('credentials', () => {
  const credential = signCredential(issuer, input);

  it('are JSON with decimal strings, and verify', () => {
    expect(JSON.parse(JSON.stringify(credential))).toEqual(credential);
    expect(credential.identityCommitment).toBe(identityCommitment(secret).toString());
    expect(credential.issuer.publicKey).toEqual(issuer.publicKey.map(String));
    expect(parseCredential(JSON.parse(JSON.stringify(credential)))).toEqual(credential);
    expect(verifyCredential(credential)).toBe(true);
    // The signature is the library's EdDSA-Poseidon over the message the circuit rebuilds.
    const sig = { R8: [BigInt(credential.signature.R8[0]), BigInt(credential.signature.R8[1])] as [bigint, bigint], S: BigInt(credential.signature.S) };
    expect(eddsa.verifySignature(credentialMessage(input), sig, [...issuer.publicKey])).toBe(true);
  });

  it('fail to verify when anything signed changes', () => {
    const tampered: Array<[string, Credential]> = [
      ['birth date', { ...credential, attributes: { ...attributes, birthDate: '1980-05-18' } }],
      ['measure', { ...credential, attributes: { ...attributes, measures: { hba1c: 6.1 } } }],
      ['condition', { ...credential, attributes: { ...attributes, conditions: [] } }],
      ['commitment', { ...credential, identityCommitment: (BigInt(credential.identityCommitment) + 1n).toString() }],
      ['issuedAt', { ...credential, issuedAt: credential.issuedAt + 1 }],
      ['expiresAt', { ...credential, expiresAt: credential.expiresAt + 1 }],
      ['issuer', { ...credential, issuer: { publicKey: otherIssuer.publicKey.map(String) as [string, string] } }],
      ['signature', { ...credential, signature: { ...credential.signature, S: (BigInt(credential.signature.S) + 1n).toString() } }],
    ];
    for (const [what, c] of tampered) expect(verifyCredential(c), what).toBe(false);
    expect(verifyCredential({ ...credential, version: 2 } as unknown as Credential)).toBe(false);
  });

  it('are refused when the times or attributes cannot be signed', () => {
    expect(() => signCredential(issuer, { ...input, expiresAt: input.issuedAt })).toThrow(CredentialError);
    expect(() => signCredential(issuer, { ...input, issuedAt: 1.5 })).toThrow(/whole second/);
    expect(() => signCredential(issuer, { ...input, identityCommitment: 0n })).toThrow(CredentialError);
    expect(() => signCredential(issuer, { ...input, attributes: { ...attributes, birthDate: '1850-01-01' } })).toThrow(AttributesError);
  });

  it('name each malformed field when parsed', () => {
    expect(() => parseCredential({ ...credential, identityCommitment: '-1', signature: { R8: ['1'], S: 'x' } })).toThrow(
      /identityCommitment: must be a decimal integer.*signature\.R8/,
    );
  });
});
