import { poseidon2 } from 'poseidon-lite/poseidon2';
import { describe, expect, it } from 'vitest';
import { issuerMerkleProof, issuersTree, IssuerTreeError } from './issuers-tree.ts';
import { MAX_ISSUER_DEPTH } from './layout.ts';

/** zk-kit's BinaryMerkleRoot(MAX_DEPTH) in JS, as the circuit computes it (0 above MAX_DEPTH). */
function binaryMerkleRoot(leaf: bigint, depth: number, index: number, siblings: bigint[]): bigint {
  let node = leaf;
  let root = 0n;
  for (let i = 0; i < MAX_ISSUER_DEPTH; i++) {
    if (depth === i) root = node;
    const right = (index >> i) & 1;
    node = right ? poseidon2([siblings[i]!, node]) : poseidon2([node, siblings[i]!]);
  }
  return depth === MAX_ISSUER_DEPTH ? node : root;
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i + 1) * 1_000_003n);

describe('issuers tree', () => {
  it('gives proofs the circuit recomputes to the tree root, for every leaf of trees of 1 to 17', () => {
    for (let n = 1; n <= 17; n++) {
      const ls = leaves(n);
      const root = issuersTree(ls).root;
      for (const leaf of ls) {
        const p = issuerMerkleProof(ls, leaf);
        expect(p.root).toBe(root);
        expect(p.siblings).toHaveLength(MAX_ISSUER_DEPTH);
        expect(p.siblings.slice(p.depth).every((s) => s === 0n)).toBe(true);
        expect(binaryMerkleRoot(leaf, p.depth, p.index, p.siblings), `n=${n} leaf=${leaf}`).toBe(root);
      }
    }
  });

  it('has the LeanIMT shape: one leaf is its own root, a lone right node is not hashed', () => {
    expect(issuersTree([5n]).root).toBe(5n);
    expect(issuersTree([5n, 6n, 7n]).root).toBe(poseidon2([poseidon2([5n, 6n]), 7n]));
    expect(issuerMerkleProof([5n, 6n, 7n], 7n)).toMatchObject({ depth: 1, index: 1 });
  });

  it('refuses an issuer not in the tree, and a removed (0) leaf', () => {
    expect(() => issuerMerkleProof(leaves(4), 42n)).toThrow(IssuerTreeError);
    expect(() => issuerMerkleProof([0n, 1n], 0n)).toThrow(/not in the accredited issuers tree/);
  });

  it('accepts 256 issuers and refuses a proof deeper than 8', () => {
    const full = leaves(256);
    expect(issuerMerkleProof(full, full[0]!).depth).toBe(8);
    expect(issuerMerkleProof(full, full[255]!).depth).toBe(8);
    // A 257th issuer adds a level: the first 256 now need 9 siblings, the new one (alone on the right) 1.
    const more = leaves(257);
    expect(issuerMerkleProof(more, more[256]!).depth).toBe(1);
    const err = (() => {
      try {
        issuerMerkleProof(more, more[0]!);
      } catch (e) {
        return e as IssuerTreeError;
      }
    })();
    expect(err).toBeInstanceOf(IssuerTreeError);
    expect(err?.code).toBe('ISSUERS_TREE_TOO_DEEP');
  });
});
