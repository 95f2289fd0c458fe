/**
 * The release log's Merkle tree: the tree OpenZeppelin's StandardMerkleTree.of(values, LOG_ENCODING)
 * builds (leaves sorted, stored from the end of one array, each node the hash of its sorted pair),
 * so OpenZeppelin's verifiers (and MerkleProof.sol) check its proofs. Built here because the
 * library re-encodes hex on every comparison and leaf, which cost milliseconds per entry.
 */
import { concat, keccak256, type Hex } from 'viem';
import { releaseLeaf, verifyReleaseProof, RELEASE_LOG_ENCODING } from '@consentry/sdk/access/access-log';

/** A leaf: (id, requester, patient, recordId, version, category bit, purpose, releasedAt); one definition, the sdk's. */
export const LOG_ENCODING = RELEASE_LOG_ENCODING;

export interface LoggedRelease {
  id: string;
  requester: string;
  patient: string;
  recordId: string;
  version: number;
  category: string;
  purpose: number;
  releasedAt: number;
}

/** A log entry's leaf as StandardMerkleTree hashes it: keccak256(keccak256(abi.encode(values))). */
export function logLeaf(e: LoggedRelease): Hex {
  return releaseLeaf({ ...e, entryId: e.id });
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
  return verifyReleaseProof({ ...entry, entryId: entry.id }, root, proof);
}
