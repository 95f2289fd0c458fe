/**
 * Witness tests of the eligibility circuit (circuits/main/eligibility.circom), with the WASM witness
 * calculator and proving key built by `npm run circuits:setup` (npm test runs it first, cached).
 *
 * Valid inputs produce a witness and a proof that verifies; each tampered input fails to produce a
 * witness, on a failed constraint (circom's "Assert Failed", not a malformed input).
 */
import { readFileSync } from 'node:fs';
import * as snarkjs from 'snarkjs';
import type { Address } from 'viem';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeArtifacts } from '../../sdk/src/zk/artifacts.node.ts';
import { issuerKeyFromSecret, issuerLeaf, signCredential, type Credential, type IssuerKey } from '../../sdk/src/zk/credential.ts';
import { identityCommitment, identitySecretFromSeed, nullifierFor } from '../../sdk/src/zk/identity.ts';
import { issuerMerkleProof, issuersTree } from '../../sdk/src/zk/issuers-tree.ts';
import { compileCriteria, FIELD, MAX_ISSUER_DEPTH, UNBOUNDED } from '../../sdk/src/zk/layout.ts';
import {
  eligibilityInput,
  packProof,
  proveEligibility,
  publicSignalsOf,
  verifyEligibilityProof,
  type EligibilityProofBundle,
  type EligibilityProofRequest,
} from '../../sdk/src/zk/prove.ts';
import type { Attributes, Criteria } from '../../sdk/src/zk/types.ts';

const DAY = 86_400;
const TIME = 1_767_225_600; // 2026-01-01
const enc = (s: string) => new TextEncoder().encode(s);
const recipient: Address = '0x00000000000000000000000000000000000A11cE';

const issuers = [0, 1, 2, 3, 4].map((i) => issuerKeyFromSecret(enc(`witness-test-issuer-${i}`)));
const leaves = issuers.map((k) => issuerLeaf(k.publicKey));
const rogue = issuerKeyFromSecret(enc('witness-test-rogue-issuer'));
const secret = identitySecretFromSeed(enc('witness-test-patient-seed'));

const attributes: Attributes = {
  birthDate: '1971-03-09', // 54 at TIME
  sex: 'female',
  smoker: 'former',
  conditions: ['I10', 'J45.909', 'E11.65'],
  measures: { hba1c: 7.9, glucose: 160, bmi: 31.2, phq9: 4 },
};
/** Every kind of criterion, each met by `attributes`. */
const criteria: Criteria = {
  version: 1,
  age: { min: 40, max: 70 },
  sex: ['female'],
  smoker: ['never', 'former'],
  hba1c: { min: 7, max: 10.5 },
  glucose: { min: 126 },
  bmi: { min: 25, max: 40 },
  phq9: { max: 9 },
  conditions: { anyOf: ['E10.*', 'E11.*'], noneOf: ['C*', 'F20.*', 'N18.6', 'E11.2*'] },
  credentialMaxAgeDays: 90,
};

function credentialFor(patch: Partial<Attributes> = {}, opts: { key?: IssuerKey; issuedAt?: number; expiresAt?: number } = {}): Credential {
  return signCredential(opts.key ?? issuers[1]!, {
    attributes: { ...attributes, ...patch },
    identityCommitment: identityCommitment(secret),
    issuedAt: opts.issuedAt ?? TIME - 10 * DAY,
    expiresAt: opts.expiresAt ?? TIME + 365 * DAY,
  });
}
const credential = credentialFor();

const request = (patch: Partial<EligibilityProofRequest> = {}): EligibilityProofRequest => ({
  credential,
  secret,
  criteria,
  studyId: 7n,
  recipient,
  issuerLeaves: leaves,
  time: TIME,
  ...patch,
});
type Signals = Record<string, string | string[]>;
const signalsOf = (patch: Partial<EligibilityProofRequest> = {}): Signals => eligibilityInput(request(patch)).signals;

let wasm: Uint8Array;
let artifacts: ReturnType<typeof nodeArtifacts>;

beforeAll(() => {
  artifacts = nodeArtifacts(); // a clear error when the circuit is not built
  wasm = readFileSync(artifacts.wasm as string);
});

async function witness(signals: Signals): Promise<void> {
  await snarkjs.wtns.calculate(signals, wasm, { type: 'mem', data: new Uint8Array(0) });
}
/** The witness fails on a constraint (not on a malformed input), in the named template when given. */
async function expectNoWitness(signals: Signals, template?: RegExp): Promise<void> {
  // circom's witness calculator also prints the failed template to the console: keep the output clean.
  const quiet = [vi.spyOn(console, 'error').mockImplementation(() => {}), vi.spyOn(console, 'log').mockImplementation(() => {})];
  const err = await witness(signals)
    .then(
      () => null,
      (e: unknown) => e as Error,
    )
    .finally(() => quiet.forEach((s) => s.mockRestore()));
  expect(err, 'a witness was produced').not.toBeNull();
  expect(err!.message).toMatch(/Assert Failed/);
  if (template) expect(err!.message).toMatch(template);
}

describe('eligibility circuit: valid inputs', () => {
  it('produce a witness and a proof that verifies, with the expected public signals', async () => {
    const stages: string[] = [];
    const bundle = await proveEligibility({ ...request(), artifacts, onProgress: (s) => stages.push(s) });
    expect(stages).toEqual(['witness', 'proving', 'done']);
    expect(bundle.issuersRoot).toBe(issuersTree(leaves).root);
    expect(bundle.criteriaHash).toBe(compileCriteria(criteria).criteriaHash);
    expect(bundle.studyId).toBe(7n);
    expect(bundle.time).toBe(BigInt(TIME));
    expect(bundle.nullifier).toBe(nullifierFor(secret, 7n));
    expect(bundle.recipient).toBe(recipient);
    expect(bundle.proof).toHaveLength(8);
    expect(await verifyEligibilityProof(bundle, artifacts.verificationKey)).toBe(true);

    // Tampered after proving: every public signal is bound (the recipient through its square).
    const tampered: Array<[string, EligibilityProofBundle]> = [
      ['recipient', { ...bundle, recipient: '0x000000000000000000000000000000000000B0b0' }],
      ['time', { ...bundle, time: bundle.time + 1n }],
      ['studyId', { ...bundle, studyId: 8n }],
      ['nullifier', { ...bundle, nullifier: nullifierFor(secret, 8n) }],
      ['criteriaHash', { ...bundle, criteriaHash: compileCriteria({ version: 1 }).criteriaHash }],
      ['issuersRoot', { ...bundle, issuersRoot: issuersTree([...leaves, issuerLeaf(rogue.publicKey)]).root }],
      ['proof', { ...bundle, proof: bundle.proof.map((v, i) => (i === 0 ? (v + 1n) % FIELD : v)) }],
    ];
    for (const [what, b] of tampered) expect(await verifyEligibilityProof(b, artifacts.verificationKey), what).toBe(false);
  });

  it('packs the proof in the order snarkjs gives the Solidity verifier', async () => {
    const signals = signalsOf();
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(signals, wasm, artifacts.zkey);
    const calldata = JSON.parse(`[${await snarkjs.groth16.exportSolidityCallData(proof, publicSignals)}]`) as [string[], string[][], string[], string[]];
    const [a, b, c, pub] = calldata;
    expect(packProof(proof)).toEqual([...a, ...b.flat(), ...c].map((v) => BigInt(v)));
    expect(pub.map((v) => BigInt(v))).toEqual(publicSignalsOf(eligibilityInput(request()).publicSignals));
  });

  it('accept the edge cases: no criteria, a one-issuer tree, the last slot and pair, a credential exactly at its limits', async () => {
    await witness(signalsOf({ criteria: { version: 1 } }));
    await witness(signalsOf({ issuerLeaves: [leaves[1]!] })); // depth 0: the root is the leaf
    for (const i of [0, 2, 4]) {
      const key = issuers[i]!;
      await witness(signalsOf({ credential: credentialFor({}, { key }) }));
    }
    const last = credentialFor({ conditions: ['I10', 'I11', 'I12', 'I13', 'I14', 'I15', 'I16', 'E13.9'] });
    await witness(signalsOf({ credential: last, criteria: { version: 1, conditions: { anyOf: ['A00', 'B00', 'C00', 'E13.9'] } } }));
    // Issued exactly credentialMaxAgeDays before, one second before expiry.
    const edge = credentialFor({}, { issuedAt: TIME - 90 * DAY, expiresAt: TIME + 1 });
    await witness(signalsOf({ credential: edge }));
    // Exactly the minimum age (birthday at 00:00Z 40 mean years ago) and the measure bounds themselves.
    await witness(signalsOf({ criteria: { version: 1, hba1c: { min: 7.9, max: 7.9 }, phq9: { min: 4, max: 4 } } }));
  });
});

describe('eligibility circuit: tampered inputs produce no witness', () => {
  it('an unaccredited issuer (not in the tree)', async () => {
    const byRogue = credentialFor({}, { key: rogue });
    // The prover builds a path in a tree that includes the rogue issuer, but must show the real root.
    const signals = signalsOf({ credential: byRogue, issuerLeaves: [...leaves, issuerLeaf(rogue.publicKey)] });
    signals.issuersRoot = issuersTree(leaves).root.toString();
    await expectNoWitness(signals, /IssuerMembership/);
    // A real issuer with a wrong path.
    const wrongPath = signalsOf();
    wrongPath.issuerSiblings = (wrongPath.issuerSiblings as string[]).map((s, i) => (i === 0 ? (BigInt(s) + 1n).toString() : s));
    await expectNoWitness(wrongPath, /IssuerMembership/);
  });

  it('a forged signature, or attributes changed after signing', async () => {
    const forgedS = signalsOf();
    forgedS.signatureS = (BigInt(forgedS.signatureS as string) + 1n).toString();
    await expectNoWitness(forgedS, /EdDSAPoseidonVerifier/);
    // Signed by one accredited issuer, presented as another's.
    const otherKey = signalsOf();
    otherKey.issuerPubKey = issuers[2]!.publicKey.map(String);
    const p = issuerMerkleProof(leaves, leaves[2]!);
    otherKey.issuerDepth = String(p.depth);
    otherKey.issuerIndex = String(p.index);
    otherKey.issuerSiblings = p.siblings.map(String);
    await expectNoWitness(otherKey, /EdDSAPoseidonVerifier/);
    // A better HbA1c than the issuer signed (the circuit recomputes the signed message).
    const changed = signalsOf();
    const attrs = [...(changed.attrs as string[])];
    attrs[3] = '101';
    changed.attrs = attrs;
    await expectNoWitness(changed, /EdDSAPoseidonVerifier/);
    // Someone else's credential: the secret does not match the signed identity commitment.
    const otherSecret = signalsOf();
    otherSecret.secret = identitySecretFromSeed(enc('witness-test-someone-else')).toString();
    otherSecret.nullifier = nullifierFor(BigInt(otherSecret.secret), 7n).toString();
    await expectNoWitness(otherSecret, /EdDSAPoseidonVerifier/);
  });

  it('an age out of range (too young, too old, born after the proof time)', async () => {
    await expectNoWitness(signalsOf({ credential: credentialFor({ birthDate: '1986-01-02' }) })); // 39
    await expectNoWitness(signalsOf({ credential: credentialFor({ birthDate: '1955-01-01' }) })); // 71
    await expectNoWitness(signalsOf({ credential: credentialFor({ birthDate: '2026-01-02' }), criteria: { version: 1 } }));
  });

  it('a measure out of range, or not measured', async () => {
    await expectNoWitness(signalsOf({ credential: credentialFor({ measures: { ...attributes.measures, hba1c: 6.9 } }) }), /AssertInRange/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ measures: { ...attributes.measures, hba1c: 10.6 } }) }), /AssertInRange/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ measures: { ...attributes.measures, phq9: 10 } }) }), /AssertInRange/);
    const { glucose: _, ...unmeasured } = attributes.measures;
    await expectNoWitness(signalsOf({ credential: credentialFor({ measures: unmeasured }) }), /AssertInRange/);
  });

  it('a sex or smoking status outside its mask', async () => {
    await expectNoWitness(signalsOf({ credential: credentialFor({ sex: 'male' }) }), /AssertMaskHas/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ sex: 'unknown' }) }), /AssertMaskHas/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ smoker: 'current' }) }), /AssertMaskHas/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ smoker: 'unknown' }) }), /AssertMaskHas/);
  });

  it('no condition in the anyOf set', async () => {
    await expectNoWitness(signalsOf({ credential: credentialFor({ conditions: ['I10', 'E12.1', 'E1'] }) }), /AssertAnyInRanges/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ conditions: [] }) }), /AssertAnyInRanges/);
  });

  it('a condition in the noneOf set (any slot, any pair)', async () => {
    await expectNoWitness(signalsOf({ credential: credentialFor({ conditions: ['E11.9', 'C50.911'] }) }), /AssertNotInRange/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ conditions: ['E11.9', 'I10', 'I11', 'I12', 'I13', 'I14', 'I15', 'F20.0'] }) }), /AssertNotInRange/);
    await expectNoWitness(signalsOf({ credential: credentialFor({ conditions: ['E11.9', 'N18.6'] }) }), /AssertNotInRange/);
    // E11.21 is in anyOf (E11.*) but excluded by E11.2*.
    await expectNoWitness(signalsOf({ credential: credentialFor({ conditions: ['E11.21'] }) }), /AssertNotInRange/);
  });

  it('an expired credential, or one issued after the proof time', async () => {
    await expectNoWitness(signalsOf({ credential: credentialFor({}, { expiresAt: TIME }) }), /AssertLessEq/);
    await expectNoWitness(signalsOf({ credential: credentialFor({}, { issuedAt: TIME + 1, expiresAt: TIME + 100 }) }), /AssertInRange/);
  });

  it('a stale credential (older than credentialMaxAgeDays)', async () => {
    await expectNoWitness(signalsOf({ credential: credentialFor({}, { issuedAt: TIME - 90 * DAY - 1 }) }), /AssertInRange/);
  });

  it('a wrong nullifier', async () => {
    for (const nullifier of [nullifierFor(secret, 8n), nullifierFor(secret, 7n) + 1n, 0n]) {
      const signals = signalsOf();
      signals.nullifier = nullifier.toString();
      await expectNoWitness(signals, /Eligibility/);
    }
  });

  it('a wrong criteria hash, or criteria changed under the study\'s hash', async () => {
    const wrongHash = signalsOf();
    wrongHash.criteriaHash = compileCriteria({ version: 1 }).criteriaHash.toString();
    await expectNoWitness(wrongHash, /Eligibility/);
    // Weakening one criterion (the age maximum) while claiming the study's hash.
    const weakened = signalsOf();
    const crit = [...(weakened.crit as string[])];
    crit[1] = UNBOUNDED.toString();
    weakened.crit = crit;
    await expectNoWitness(weakened, /Eligibility/);
  });

  it('criteria values beyond 40 bits are refused (range checks), even with their own hash', async () => {
    const { values } = compileCriteria({ version: 1 });
    const huge = [...values];
    huge[1] = 1n << 40n;
    const signals = signalsOf({ criteria: { version: 1 } });
    signals.crit = huge.map(String);
    const { poseidon2 } = await import('poseidon-lite/poseidon2');
    const { poseidon16 } = await import('poseidon-lite/poseidon16');
    signals.criteriaHash = poseidon2([poseidon16(huge.slice(0, 16)), poseidon16(huge.slice(16))]).toString();
    await expectNoWitness(signals, /Num2Bits/);
  });

  it('an issuers path deeper than 8 (BinaryMerkleRoot would give root 0)', async () => {
    const signals = signalsOf();
    signals.issuerDepth = String(MAX_ISSUER_DEPTH + 1);
    signals.issuersRoot = '0';
    await expectNoWitness(signals, /IssuerMembership/);
    signals.issuerDepth = '16';
    await expectNoWitness(signals, /IssuerMembership/);
  });
});
