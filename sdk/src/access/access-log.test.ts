// The access-log checks without a chain: the leaf and proof verification equal OpenZeppelin's
// StandardMerkleTree (what the gateways build), statuses per entry, missing entries per root, and
// reads grouped across gateways. The same checks through real gateways, the indexer and the chain
// are in workers/src/indexer/releases.test.ts.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress, keccak256, toHex, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { checkAccessLog, groupReads, READ_WINDOW_MS, RELEASE_LOG_ENCODING, releaseLeaf, releaseLeafValues, verifyReleaseProof, type ReleaseEntry } from './access-log.ts';

const member = (i: number) => getAddress(`0x${String(i).repeat(40)}`).toLowerCase();
const dr = '0x00000000000000000000000000000000000000d1';
const patient = '0x00000000000000000000000000000000000000a1';
const record = keccak256(toHex('hba1c'));
const t0 = 1_763_000_000_000;

function entry(m: string, seq: number, over: Partial<ReleaseEntry> = {}): ReleaseEntry {
  return {
    id: `${m}${seq.toString(16).padStart(16, '0')}`,
    member: m,
    seq: String(seq),
    entryId: keccak256(toHex(`${m}:${seq}`)),
    requester: dr,
    patient,
    recordId: record,
    version: 1,
    category: 'labs',
    purpose: 0,
    releasedAt: String(t0 + seq * 1000),
    batchRoot: null,
    proof: null,
    ...over,
  };
}

/** Roots a batch like a gateway does and fills batchRoot and proof in. */
function root(entries: ReleaseEntry[]): { entries: ReleaseEntry[]; root: Hex; tree: StandardMerkleTree<(string | number | bigint)[]> } {
  const values: (string | number | bigint)[][] = entries.map((e) => releaseLeafValues(e));
  const tree = StandardMerkleTree.of(values, [...RELEASE_LOG_ENCODING]);
  return { root: tree.root as Hex, tree, entries: entries.map((e, i) => ({ ...e, batchRoot: tree.root, proof: tree.getProof(i) })) };
}

describe('access log', () => {
  it('bundles for the browser (no Node built-ins), with the inbox', async () => {
    const { build } = await import('esbuild');
    const dir = new URL('.', import.meta.url).pathname;
    const result = await build({ entryPoints: [`${dir}access-log.ts`, `${dir}inbox.ts`], bundle: true, platform: 'browser', format: 'esm', write: false, outdir: '/tmp/consentry-access-log-bundle', logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles.map((f) => f.text).join('')).not.toMatch(/from ["']node:/);
  });

  it('hashes leaves and verifies proofs exactly like StandardMerkleTree', () => {
    const batch = [1, 2, 3, 4, 5].map((s) => entry(member(1), s, { version: s, purpose: s % 3, releasedAt: String(t0 + s * 77_777) }));
    const { tree, entries, root: r } = root(batch);
    entries.forEach((e, i) => {
      expect(releaseLeaf(e)).toBe(tree.leafHash(tree.at(i)!));
      expect(verifyReleaseProof(e, r, e.proof!)).toBe(true);
      expect(StandardMerkleTree.verify(r, [...RELEASE_LOG_ENCODING], tree.at(i)!, [...e.proof!])).toBe(true);
    });
    expect(verifyReleaseProof({ ...entries[0]!, version: 9 }, r, entries[0]!.proof!)).toBe(false);
    expect(verifyReleaseProof({ ...entries[0]!, category: 'mental-health' }, r, entries[0]!.proof!)).toBe(false);
    expect(verifyReleaseProof({ ...entries[0]!, releasedAt: '1' }, r, entries[0]!.proof!)).toBe(false);
    expect(verifyReleaseProof(entries[0]!, r, entries[1]!.proof!)).toBe(false);
    // A single-entry tree: the root is the leaf, the proof empty.
    const one = root([entry(member(2), 1)]);
    expect(one.entries[0]!.proof).toEqual([]);
    expect(verifyReleaseProof(one.entries[0]!, one.root, [])).toBe(true);
  });

  it('says proven, pending (with its age) or altered per entry, and missing per root', async () => {
    const a = root([entry(member(1), 1), entry(member(1), 2, { recordId: keccak256(toHex('other')) })]);
    const b = root([entry(member(2), 1)]);
    const pending = entry(member(3), 7);
    const forged = { ...b.entries[0]!, id: 'forged', member: member(3) }; // root posted by member 2, not 3
    const tampered = { ...a.entries[1]!, version: 2 };
    const check = await checkAccessLog({
      releases: [a.entries[0]!, tampered, b.entries[0]!, pending, forged],
      roots: [
        { member: member(1), root: a.root, count: '2', held: 2 },
        // The gateway posted 2 entries under this root; the index holds 1.
        { member: member(2), root: b.root, count: '2', held: 1, blockTimestamp: '1763000000' },
      ],
      now: t0 + 10_000,
    });
    const byId = new Map(check.entries.map((e) => [e.id, e]));
    expect(byId.get(a.entries[0]!.id)!.status).toBe('proven');
    expect(byId.get(tampered.id)).toMatchObject({ status: 'altered', reason: expect.stringMatching(/does not match the root/) });
    expect(byId.get(b.entries[0]!.id)!.status).toBe('proven');
    expect(byId.get(pending.id)).toMatchObject({ status: 'pending', ageMs: 3000 });
    expect(byId.get('forged')).toMatchObject({ status: 'altered', reason: expect.stringMatching(/never posted by/) });
    expect(check.roots.find((r) => r.root === b.root && r.member === getAddress(member(2)))).toMatchObject({ count: 2, held: 1, missing: 1, postedOnChain: null, postedAt: 1763000000 });
    expect(check.roots.find((r) => r.root === a.root)).toMatchObject({ missing: 0 });
    expect(check.summary).toEqual({ proven: 2, pending: 1, altered: 2, missing: 1 });
    expect(check.entries.map((e) => e.releasedAt)).toEqual([...check.entries.map((e) => e.releasedAt)].sort((x, y) => y - x));
  });

  it('groups one requester\'s releases of one record version within 30 seconds into a read across gateways', async () => {
    const batch = root([entry(member(1), 1), entry(member(2), 2), entry(member(1), 200)]);
    const check = await checkAccessLog({
      releases: [...batch.entries, entry(member(3), 3), entry(member(1), 4, { version: 2 })],
      roots: [{ member: member(1), root: batch.root, count: 2, held: 2 }, { member: member(2), root: batch.root, count: 1, held: 1 }],
      now: t0 + 500_000,
    });
    const reads = check.reads;
    expect(reads).toHaveLength(3);
    const first = reads.find((r) => r.version === 1 && r.at === t0 + 1000)!;
    expect(first.members).toEqual([getAddress(member(1)), getAddress(member(2)), getAddress(member(3))]);
    expect(first.status).toBe('pending'); // member 3's entry is not rooted yet
    expect(reads.find((r) => r.at === t0 + 200_000)).toMatchObject({ status: 'proven', members: [getAddress(member(1))] });
    expect(reads.find((r) => r.version === 2)).toMatchObject({ status: 'pending' });
    expect(reads.map((r) => r.at)).toEqual([t0 + 200_000, t0 + 4000, t0 + 1000]);
    // However wide the window, a read asks each gateway once: member 1's second entry is a new read.
    expect(groupReads(check.entries, READ_WINDOW_MS * 100)).toHaveLength(3);
  });

  it('tells two quick reads of the same record apart: each gateway answers a read once', async () => {
    const at = (ms: number) => ({ releasedAt: String(t0 + ms) });
    const entries = [entry(member(1), 1, at(1000)), entry(member(2), 2, at(1200)), entry(member(2), 3, at(9000)), entry(member(1), 4, at(9100))];
    const check = await checkAccessLog({ releases: entries, roots: [], now: t0 + 20_000 });
    expect(check.reads.map((r) => r.members.length)).toEqual([2, 2]);
    expect(check.reads.map((r) => r.at)).toEqual([t0 + 9000, t0 + 1000]);
  });
});
