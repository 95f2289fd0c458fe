// The log tree is OpenZeppelin's StandardMerkleTree, entry for entry: same root and same proofs for
// every size (odd and even, one entry, duplicates of a field), and a changed entry does not prove.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress, keccak256, toHex, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { releaseLeafValues } from '@consentry/sdk/access/access-log';
import { LOG_ENCODING, logLeaf, logTree, verifyLogEntry, type LoggedRelease } from './log-tree.ts';

const entry = (i: number): LoggedRelease => ({
  id: keccak256(toHex(`entry-${i}`)),
  requester: `0x${(i % 3).toString(16).padStart(40, 'a')}`,
  patient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  recordId: keccak256(toHex(`record-${i % 4}`)),
  version: 1 + (i % 2),
  category: i % 3 === 0 ? 'labs' : 'mental-health',
  purpose: i % 5,
  releasedAt: 1_790_000_000_000 + i,
});

describe('log tree', () => {
  it('builds the same root and proofs as StandardMerkleTree for 1 to 40 entries', () => {
    for (let n = 1; n <= 40; n++) {
      const entries = Array.from({ length: n }, (_, i) => entry(i));
      const ours = logTree(entries.map(logLeaf));
      const values = entries.map((e) => releaseLeafValues({ ...e, entryId: e.id }));
      const oz = StandardMerkleTree.of(values, [...LOG_ENCODING]);
      expect(ours.root, `n = ${n}`).toBe(oz.root);
      entries.forEach((e, i) => {
        expect(ours.proofs[i]).toEqual(oz.getProof(i));
        expect(verifyLogEntry(e, ours.root, ours.proofs[i]!)).toBe(true);
      });
    }
  });

  it('does not prove an altered entry, or an entry against another root', () => {
    const entries = Array.from({ length: 7 }, (_, i) => entry(i));
    const { root, proofs } = logTree(entries.map(logLeaf));
    expect(verifyLogEntry({ ...entries[3]!, purpose: 4 }, root, proofs[3]!)).toBe(false);
    expect(verifyLogEntry({ ...entries[3]!, category: 'labs' }, root, proofs[3]!)).toBe(entries[3]!.category === 'labs');
    expect(verifyLogEntry({ ...entries[4]!, category: 'labs' }, root, proofs[4]!)).toBe(false); // was mental-health
    expect(verifyLogEntry({ ...entries[4]!, category: 'no-such-category' }, root, proofs[4]!)).toBe(false);
    expect(verifyLogEntry({ ...entries[3]!, releasedAt: entries[3]!.releasedAt + 1 }, root, proofs[3]!)).toBe(false);
    expect(verifyLogEntry(entries[3]!, logTree(entries.slice(1).map(logLeaf)).root, proofs[3]!)).toBe(false);
    expect(() => logTree([] as Hex[])).toThrow(/at least one/);
  });
});
