/**
 * Record leaves and batch proofs (browser-safe), compatible with OpenZeppelin's MerkleProof:
 * built with OpenZeppelin's StandardMerkleTree, so a leaf is keccak256(keccak256(abi.encode(...))).
 *
 *   leaf = (patient, recordId, version, categoryBit, cidDigest, supersedes)
 *
 * `cidDigest` is the sha2-256 digest inside the ciphertext's CID, so the leaf commits to the exact
 * ciphertext; `supersedes` is the leaf hash of the version it corrects (zero for a first version).
 * Only batch roots go on chain (RecordAnchor); leaves and proofs stay with the patient's records.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { bytesToHex, encodeAbiParameters, getAddress, keccak256, zeroHash, type Address, type Hex } from 'viem';
import { cidDigest } from '../blobs/cid.ts';
import { categoryBit, type Category } from '../records/categories.ts';

export const LEAF_ENCODING = ['address', 'bytes32', 'uint32', 'uint8', 'bytes32', 'bytes32'] as const;

export interface RecordLeaf {
  patient: Address;
  /** bytes32, from `recordIdFor`. */
  recordId: Hex;
  version: number;
  category: Category;
  /** CID of the record version's ciphertext. */
  cid: string;
  /** Leaf hash of the superseded version, or zero. */
  supersedes: Hex;
}

type LeafValue = [Address, Hex, number, number, Hex, Hex];

function leafValue(leaf: RecordLeaf): LeafValue {
  return [
    getAddress(leaf.patient),
    leaf.recordId,
    leaf.version,
    categoryBit(leaf.category),
    bytesToHex(cidDigest(leaf.cid)),
    leaf.supersedes,
  ];
}

/** A record's stable id: keccak256(abi.encode(patient, "ResourceType/id")). Reveals nothing by itself. */
export function recordIdFor(patient: Address, resourceType: string, fhirId: string): Hex {
  return keccak256(
    encodeAbiParameters([{ type: 'address' }, { type: 'string' }], [getAddress(patient), `${resourceType}/${fhirId}`]),
  );
}

/** The leaf hash, as MerkleProof and RecordAnchor.verifyRecord take it. */
export function leafHash(leaf: RecordLeaf): Hex {
  return keccak256(keccak256(encodeAbiParameters(LEAF_ENCODING.map((type) => ({ type })), leafValue(leaf))));
}

export interface Batch {
  root: Hex;
  /** proofs[i] proves leaves[i]. */
  proofs: Hex[][];
  leafHashes: Hex[];
}

/** Builds a batch's Merkle tree (OpenZeppelin StandardMerkleTree) with every leaf's proof. */
export function buildBatch(leaves: readonly RecordLeaf[]): Batch {
  if (leaves.length === 0) throw new RangeError('A batch needs at least one leaf');
  const tree = StandardMerkleTree.of(leaves.map(leafValue), [...LEAF_ENCODING]);
  return {
    root: tree.root as Hex,
    proofs: leaves.map((_, i) => tree.getProof(i) as Hex[]),
    leafHashes: leaves.map((_, i) => tree.leafHash(tree.at(i)!) as Hex),
  };
}

/** Checks a leaf against a root and proof offline (no chain). */
export function verifyLeaf(root: Hex, leaf: RecordLeaf, proof: readonly Hex[]): boolean {
  return StandardMerkleTree.verify(root, [...LEAF_ENCODING], leafValue(leaf), [...proof]);
}

export const NO_SUPERSEDES: Hex = zeroHash;
