/**
 * The release log's Merkle tree: the tree OpenZeppelin's StandardMerkleTree.of(values, LOG_ENCODING)
 * builds (leaves sorted, stored from the end of one array, each node the hash of its sorted pair),
 * so OpenZeppelin's verifiers (and MerkleProof.sol) check its proofs. Built here because the
 * library re-encodes hex on every comparison and leaf, which cost milliseconds per entry.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { concat, encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from 'viem';

/** A leaf: (id, requester, patient, recordId, version, purpose, releasedAt). */
export const LOG_ENCODING = ['bytes32', 'address', 'address', 'bytes32', 'uint32', 'uint8', 'uint64'] as const;
const LOG_LEAF_TYPES = LOG_ENCODING.map((type) => ({ type }));

export interface LoggedRelease {
  id: string;
  requester: string;
  patient: string;
  recordId: string;
  version: number;
  purpose: number;
  releasedAt: number;
}

/** A log entry's leaf as StandardMerkleTree hashes it: keccak256(keccak256(abi.encode(values))). */
export function logLeaf(e: LoggedRelease): Hex {
  const encoded = encodeAbiParameters(LOG_LEAF_TYPES, [e.id as Hex, e.requester as Address, e.patient as Address, e.recordId as Hex, e.version, e.purpose, BigInt(e.releasedAt)]);
  return keccak256(keccak256(encoded));
}

const hashPair = (a: Hex, b: Hex): Hex => keccak256(concat(a < b ? [a, b] : [b, a]));

/** The root over `leaves` and each leaf's proof, in the order given. */
export function logTree(leaves: Hex[]): { root: Hex; proofs: Hex[][] } {
  if (leaves.length === 0) throw new RangeError('A log tree needs at least one entry');
  const sorted = leaves.map((leaf, i) => ({ leaf: leaf.toLowerCase() as Hex, i })).sort((a, b) => (a.leaf < b.leaf ? -1 : a.leaf > b.leaf ? 1 : 0));
  const tree = new Array<Hex>(2 * leaves.length - 1);
  sorted.forEach(({ leaf }, k) => (tree[tree.length - 1 - k] = leaf));
  for (let i = tree.length - 1 - leaves.length; i >= 0; i--) tree[i] = hashPair(tree[2 * i + 1]!, tree[2 * i + 2]!);
  const proofs = new Array<Hex[]>(leaves.length);
  sorted.forEach(({ i }, k) => {
    const proof: Hex[] = [];
    for (let j = tree.length - 1 - k; j > 0; j = Math.floor((j - 1) / 2)) proof.push(tree[j % 2 === 1 ? j + 1 : j - 1]!);
    proofs[i] = proof;
  });
  return { root: tree[0]!, proofs };
}

/** Checks a log entry against the root its gateway posted (what a patient's client does). */
export function verifyLogEntry(entry: LoggedRelease, root: Hex, proof: readonly Hex[]): boolean {
  const value = [entry.id, getAddress(entry.requester), getAddress(entry.patient), entry.recordId, entry.version, entry.purpose, BigInt(entry.releasedAt)];
  return StandardMerkleTree.verify(root, [...LOG_ENCODING], value, [...proof]);
}
