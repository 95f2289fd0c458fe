/**
 * The accredited issuers as a LeanIMT (@zk-kit/lean-imt, Poseidon2), the same tree IssuerRegistry
 * keeps on chain (@zk-kit/lean-imt.sol with PoseidonT3). A leaf is Poseidon2(Ax, Ay) of an issuer's
 * public key (`issuerLeaf`, re-exported by credential.ts); a removed issuer's leaf is 0.
 *
 * The circuit checks membership with zk-kit's BinaryMerkleRoot(MAX_ISSUER_DEPTH): a LeanIMT proof
 * leaves out the levels where a node has no sibling, so its `depth` is the number of siblings, and
 * `index` has one bit per sibling (least significant first). Browser-safe: no Node imports.
 */
import { LeanIMT } from '@zk-kit/lean-imt';
import { poseidon2 } from 'poseidon-lite/poseidon2';
import { ConsentryError } from '../errors.ts';
import { MAX_ISSUER_DEPTH } from './layout.ts';

/** The issuer is not in the tree, or the tree is too deep for the circuit. */
export class IssuerTreeError extends ConsentryError {
  constructor(code: 'ISSUER_NOT_ACCREDITED' | 'ISSUERS_TREE_TOO_DEEP', message: string) {
    super(code, message);
    this.name = 'IssuerTreeError';
  }
}

export interface IssuerMerkleProof {
  root: bigint;
  /** Siblings actually used (≤ MAX_ISSUER_DEPTH). */
  depth: number;
  /** Left/right path bits, one per used sibling, least significant first. */
  index: number;
  /** MAX_ISSUER_DEPTH entries: the used siblings, then zeros. */
  siblings: bigint[];
}

const hash = (a: bigint, b: bigint) => poseidon2([a, b]);

/** An issuer's leaf: Poseidon2(Ax, Ay) of its Baby Jubjub public key. */
export function issuerLeaf(publicKey: readonly [bigint, bigint]): bigint {
  return poseidon2([publicKey[0], publicKey[1]]);
}

/** The tree of these leaves, inserted in order. */
export function issuersTree(leaves: readonly bigint[]): LeanIMT<bigint> {
  return new LeanIMT<bigint>(hash, [...leaves]);
}

/** The proof that `leaf` is in the tree of `leaves`, padded for the circuit. */
export function issuerMerkleProof(leaves: readonly bigint[], leaf: bigint): IssuerMerkleProof {
  const index = leaf === 0n ? -1 : leaves.indexOf(leaf);
  if (index < 0) throw new IssuerTreeError('ISSUER_NOT_ACCREDITED', 'The credential\'s issuer is not in the accredited issuers tree');
  const proof = issuersTree(leaves).generateProof(index);
  if (proof.siblings.length > MAX_ISSUER_DEPTH) {
    throw new IssuerTreeError('ISSUERS_TREE_TOO_DEEP', `The issuers tree is ${proof.siblings.length} levels deep at this issuer; the circuit accepts at most ${MAX_ISSUER_DEPTH} (${2 ** MAX_ISSUER_DEPTH} issuers)`);
  }
  const siblings = [...proof.siblings, ...new Array<bigint>(MAX_ISSUER_DEPTH - proof.siblings.length).fill(0n)];
  return { root: proof.root, depth: proof.siblings.length, index: proof.index, siblings };
}
