/**
 * Proving and checking eligibility proofs with snarkjs (Groth16 over BN254), in Node and in the
 * browser (a web worker). Browser-safe: no Node imports, and credential.ts (which loads its EdDSA
 * library with a top-level await) is imported for its type only.
 *
 * The circuit's public signals, in order: issuersRoot, criteriaHash, studyId, time, nullifier,
 * recipient. A proof goes to the contracts as uint256[8] = [a0, a1, b00, b01, b10, b11, c0, c1] in
 * the order the Solidity verifier takes it (b's coordinates swapped, as snarkjs's
 * exportSolidityCallData does).
 */
import * as snarkjs from 'snarkjs';
import { getAddress, isAddress, type Address } from 'viem';
import { ConsentryError } from '../errors.ts';
import type { Credential } from './credential.ts';
import { identityCommitment, nullifierFor } from './identity.ts';
import { issuerLeaf, issuerMerkleProof } from './issuers-tree.ts';
import { compileCriteria, encodeAttributes, FIELD, UNBOUNDED } from './layout.ts';
import type { Criteria } from './types.ts';

/** The circuit's WebAssembly witness generator and proving key: bytes, or (Node) file paths / (browser) URLs. */
export interface EligibilityArtifacts {
  wasm: Uint8Array | string;
  zkey: Uint8Array | string;
}

export interface EligibilityProofBundle {
  issuersRoot: bigint;
  criteriaHash: bigint;
  studyId: bigint;
  time: bigint;
  nullifier: bigint;
  recipient: Address;
  /** 8 numbers, contract order. */
  proof: readonly bigint[];
}

export interface EligibilityProofRequest {
  credential: Credential;
  secret: bigint;
  criteria: Criteria;
  studyId: bigint;
  /** The address that will enroll (msg.sender of the enrollment): the proof is bound to it. */
  recipient: Address;
  /** The accredited issuers' leaves, in tree order (as read from IssuerRegistry). */
  issuerLeaves: readonly bigint[];
  /** The proof's time, unix seconds (contracts accept block time − 1 h … + 5 min). */
  time: number;
}

export type ProofStage = 'witness' | 'proving' | 'done';

/** The proof could not be made: the inputs do not fit the circuit, or the prover failed. */
export class ProofError extends ConsentryError {
  constructor(code: 'ZK_INPUT_INVALID' | 'ZK_WITNESS_FAILED' | 'ZK_PROOF_FAILED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProofError';
  }
}

/** The circuit's input signals (decimal strings) and the public signals they lead to. */
export interface EligibilityInput {
  signals: Record<string, string | string[]>;
  publicSignals: Omit<EligibilityProofBundle, 'proof'>;
}

const dec = (v: bigint) => v.toString();

/**
 * The circuit input for a request. Checks what would otherwise surface as an opaque witness failure
 * (the credential is someone else's, the issuer is not accredited, a value out of range); whether
 * the attributes meet the criteria is for `checkEligibility` (eligibility.ts) to say in words.
 */
export function eligibilityInput(req: EligibilityProofRequest): EligibilityInput {
  const { credential, secret, studyId, recipient, time } = req;
  if (!Number.isInteger(time) || time < 0 || BigInt(time) >= UNBOUNDED) throw new ProofError('ZK_INPUT_INVALID', `The proof time ${time} is not a unix time in seconds`);
  if (!isAddress(recipient, { strict: false })) throw new ProofError('ZK_INPUT_INVALID', `The recipient ${String(recipient)} is not an address`);
  if (studyId < 0n || studyId >= FIELD) throw new ProofError('ZK_INPUT_INVALID', 'The study id is outside the field');
  if (identityCommitment(secret) !== BigInt(credential.identityCommitment)) {
    throw new ProofError('ZK_INPUT_INVALID', 'The credential was issued to another identity (its commitment is not this secret\'s)');
  }
  const publicKey = [BigInt(credential.issuer.publicKey[0]), BigInt(credential.issuer.publicKey[1])] as const;
  const membership = issuerMerkleProof(req.issuerLeaves, issuerLeaf(publicKey));
  const attrs = encodeAttributes(credential.attributes);
  const { values: crit, criteriaHash } = compileCriteria(req.criteria);
  const nullifier = nullifierFor(secret, studyId);
  const publicSignals = {
    issuersRoot: membership.root,
    criteriaHash,
    studyId,
    time: BigInt(time),
    nullifier,
    recipient: getAddress(recipient),
  };
  const signals = {
    issuersRoot: dec(membership.root),
    criteriaHash: dec(criteriaHash),
    studyId: dec(studyId),
    time: String(time),
    nullifier: dec(nullifier),
    recipient: dec(BigInt(recipient)),
    secret: dec(secret),
    attrs: attrs.map(dec),
    issuedAt: String(credential.issuedAt),
    expiresAt: String(credential.expiresAt),
    issuerPubKey: publicKey.map(dec),
    signatureR8: credential.signature.R8.map((v) => dec(BigInt(v))),
    signatureS: dec(BigInt(credential.signature.S)),
    issuerDepth: String(membership.depth),
    issuerIndex: String(membership.index),
    issuerSiblings: membership.siblings.map(dec),
    crit: crit.map(dec),
  };
  return { signals, publicSignals };
}

/** The public signals in the circuit's order, as the verifier takes them. */
export function publicSignalsOf(p: Omit<EligibilityProofBundle, 'proof'>): bigint[] {
  return [p.issuersRoot, p.criteriaHash, p.studyId, p.time, p.nullifier, BigInt(p.recipient)];
}

/** snarkjs's proof as the uint256[8] the Solidity verifier takes (b's coordinates swapped). */
export function packProof(proof: snarkjs.Groth16Proof): bigint[] {
  const [a, b, c] = [proof.pi_a, proof.pi_b, proof.pi_c];
  return [a[0], a[1], b[0]![1], b[0]![0], b[1]![1], b[1]![0], c[0], c[1]].map((v) => BigInt(v!));
}

/** The reverse of packProof. */
export function unpackProof(packed: readonly bigint[]): snarkjs.Groth16Proof {
  if (packed.length !== 8) throw new ProofError('ZK_INPUT_INVALID', `A packed proof has 8 numbers, not ${packed.length}`);
  const s = packed.map(dec);
  return {
    pi_a: [s[0]!, s[1]!, '1'],
    pi_b: [
      [s[3]!, s[2]!],
      [s[5]!, s[4]!],
      ['1', '0'],
    ],
    pi_c: [s[6]!, s[7]!, '1'],
    protocol: 'groth16',
    curve: 'bn128',
  };
}

/**
 * Proves eligibility: builds the input, computes the witness (`onProgress('witness')`), then the
 * Groth16 proof (`'proving'`), and checks the public signals came out as expected (`'done'`).
 * Throws ProofError ZK_WITNESS_FAILED when the inputs do not satisfy the circuit (the patient is
 * not eligible, or the credential is not valid at `time`).
 */
export async function proveEligibility(
  req: EligibilityProofRequest & { artifacts: EligibilityArtifacts; onProgress?: (stage: ProofStage) => void },
): Promise<EligibilityProofBundle> {
  const { signals, publicSignals } = eligibilityInput(req);
  req.onProgress?.('witness');
  const witness: { type: 'mem'; data: Uint8Array } = { type: 'mem', data: new Uint8Array(0) };
  try {
    await snarkjs.wtns.calculate(signals, req.artifacts.wasm, witness);
  } catch (err) {
    throw new ProofError(
      'ZK_WITNESS_FAILED',
      'The credential and criteria do not satisfy the eligibility circuit (check eligibility first: a criterion is not met, or the credential is expired or too old at this time)',
      { cause: err },
    );
  }
  req.onProgress?.('proving');
  let result: Awaited<ReturnType<typeof snarkjs.groth16.prove>>;
  try {
    result = await snarkjs.groth16.prove(req.artifacts.zkey, witness);
  } catch (err) {
    throw new ProofError('ZK_PROOF_FAILED', `The prover failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const expected = publicSignalsOf(publicSignals).map(dec);
  if (result.publicSignals.length !== expected.length || result.publicSignals.some((v, i) => v !== expected[i])) {
    // The proving files are for another circuit (a stale build).
    throw new ProofError('ZK_PROOF_FAILED', 'The proof\'s public signals are not the expected ones: the proving files do not match this sdk\'s circuit');
  }
  req.onProgress?.('done');
  return { ...publicSignals, proof: packProof(result.proof) };
}

/** Whether the bundle's proof verifies for its public signals under the verification key. */
export async function verifyEligibilityProof(bundle: EligibilityProofBundle, verificationKey: object): Promise<boolean> {
  try {
    const signals = publicSignalsOf(bundle);
    if (signals.some((v) => v < 0n || v >= FIELD)) return false;
    return await snarkjs.groth16.verify(verificationKey, signals.map(dec), unpackProof(bundle.proof));
  } catch {
    return false;
  }
}
