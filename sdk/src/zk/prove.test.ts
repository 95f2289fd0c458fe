import { describe, expect, it } from 'vitest';
import { nodeArtifacts } from './artifacts.node.ts';
import { issuerKeyFromSecret, issuerLeaf, signCredential } from './credential.ts';
import { identityCommitment, identitySecretFromSeed } from './identity.ts';
import { IssuerTreeError } from './issuers-tree.ts';
import { eligibilityInput, packProof, ProofError, proveEligibility, publicSignalsOf, unpackProof, verifyEligibilityProof, type EligibilityProofRequest } from './prove.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const TIME = 1_767_225_600;
const issuer = issuerKeyFromSecret(enc('prove-test-issuer-0000'));
const secret = identitySecretFromSeed(enc('prove-test-patient-seed'));
const credential = signCredential(issuer, {
  attributes: { birthDate: '1990-01-01', sex: 'other', smoker: 'never', conditions: ['J45.909'], measures: {} },
  identityCommitment: identityCommitment(secret),
  issuedAt: TIME - 86_400,
  expiresAt: TIME + 86_400,
});
const request: EligibilityProofRequest = {
  credential,
  secret,
  criteria: { version: 1, age: { min: 18 } },
  studyId: 3n,
  recipient: '0x00000000000000000000000000000000000a11ce',
  issuerLeaves: [issuerLeaf(issuer.publicKey)],
  time: TIME,
};

describe('eligibilityInput', () => {
  it('gives the public signals in the circuit order, with a checksummed recipient', () => {
    const { signals, publicSignals } = eligibilityInput(request);
    expect(publicSignals.recipient).toBe('0x00000000000000000000000000000000000A11cE');
    expect(publicSignalsOf(publicSignals).map(String)).toEqual(
      ['issuersRoot', 'criteriaHash', 'studyId', 'time', 'nullifier', 'recipient'].map((k) => signals[k]),
    );
    expect(signals.attrs).toHaveLength(16);
    expect(signals.crit).toHaveLength(32);
    expect(signals.issuerSiblings).toHaveLength(8);
  });

  it('refuses in words what would only fail as a witness', () => {
    const other = identitySecretFromSeed(enc('prove-test-someone-else'));
    expect(() => eligibilityInput({ ...request, secret: other })).toThrow(/issued to another identity/);
    expect(() => eligibilityInput({ ...request, issuerLeaves: [1n, 2n] })).toThrow(IssuerTreeError);
    expect(() => eligibilityInput({ ...request, time: 1.5 })).toThrow(ProofError);
    expect(() => eligibilityInput({ ...request, recipient: '0x1234' })).toThrow(/not an address/);
  });
});

describe('proof packing', () => {
  it('unpacks what it packs (b swapped for Solidity)', () => {
    const packed = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n];
    const proof = unpackProof(packed);
    expect(proof.pi_b.slice(0, 2)).toEqual([
      ['4', '3'],
      ['6', '5'],
    ]);
    expect(packProof(proof)).toEqual(packed);
    expect(() => unpackProof([1n])).toThrow(/8 numbers/);
  });
});

describe('proveEligibility (real circuit)', () => {
  const artifacts = nodeArtifacts();

  it('says ZK_WITNESS_FAILED when the patient does not meet the criteria', async () => {
    const err = await proveEligibility({ ...request, criteria: { version: 1, age: { min: 60 } }, artifacts }).catch((e: unknown) => e as ProofError);
    expect(err).toBeInstanceOf(ProofError);
    expect((err as ProofError).code).toBe('ZK_WITNESS_FAILED');
  });

  it('proves from bytes, and a garbled bundle does not verify (false, not a throw)', async () => {
    const { readFileSync } = await import('node:fs');
    const bytes = { wasm: readFileSync(artifacts.wasm as string), zkey: readFileSync(artifacts.zkey as string) };
    const bundle = await proveEligibility({ ...request, artifacts: bytes });
    expect(await verifyEligibilityProof(bundle, artifacts.verificationKey)).toBe(true);
    expect(await verifyEligibilityProof({ ...bundle, proof: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] }, artifacts.verificationKey)).toBe(false);
    expect(await verifyEligibilityProof({ ...bundle, proof: [1n] }, artifacts.verificationKey)).toBe(false);
    expect(await verifyEligibilityProof({ ...bundle, nullifier: -1n }, artifacts.verificationKey)).toBe(false);
  });
});
