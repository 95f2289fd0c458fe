// Unit tests of the RecordAnchor mappings (build/RecordAnchor/RecordAnchor.wasm): BatchAnchored
// logs made by hand, manifests made by the sdk and served to the file data source by the host.
import { beforeAll, describe, expect, it } from 'vitest';
import { concat, type Hex } from 'viem';
import { buildBatch } from '@consentry/sdk/anchor/leaf';
import { buildBatchManifest, manifestCid, type BuiltManifest } from '@consentry/sdk/anchor/manifest';
import { syntheticLeaf } from '@consentry/sdk/testing/leaves';
import { ensureSubgraphBuilt, MappingHost } from './host/index.ts';
import { ALICE, ANCHOR, BOB, batchAnchored, timestampOf, txHash } from './events.ts';

beforeAll(async () => {
  await ensureSubgraphBuilt();
}, 240_000);

const sources = { RecordAnchor: { address: ANCHOR } };

function manifestOf(from: number, count: number, version = 1): BuiltManifest {
  const leaves = Array.from({ length: count }, (_, i) => syntheticLeaf(ALICE, from + i, { version: version + i }));
  return buildBatchManifest(leaves, buildBatch(leaves));
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const hostWith = (files: Map<string, Uint8Array>) => new MappingHost({ sources, files: (cid) => files.get(cid) });

describe('handleBatchAnchored', () => {
  it('creates the AnchorBatch and a file data source for its manifest, whose leaves become RecordVersions', () => {
    const m = manifestOf(0, 3);
    const host = hostWith(new Map([[m.cid, m.bytes]])).run([batchAnchored(1n, m.json.root, BOB, 3, m.digest, { block: 7, logIndex: 2, tx: 'a1' })]);
    const dump = host.dump();
    expect(dump.AnchorBatch).toEqual([
      {
        id: m.json.root,
        batchId: '1',
        root: m.json.root,
        submitter: BOB,
        leafCount: '3',
        manifest: m.digest,
        blockNumber: '7',
        blockTimestamp: String(timestampOf(7)),
        transactionHash: txHash('a1'),
      },
    ]);
    // The CID the mapping builds from the digest is the blob store's CID of the manifest.
    expect(host.files).toMatchObject([{ template: 'AnchorBatchManifest', cid: m.cid, done: true }]);
    expect(manifestCid(m.digest)).toBe(m.cid);
    const expected = m.json.leaves
      .map((l) => ({ id: concat([m.json.root, l.leaf]), batch: m.json.root, leaf: l.leaf, recordId: l.recordId, version: l.version, blockNumber: '7' }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(dump.RecordVersion).toEqual(expected);
    expect(host.logs).toEqual([]);
  });

  it('leaves the batch without versions while the manifest cannot be fetched, and fills them once it can', () => {
    const m = manifestOf(10, 2);
    const files = new Map<string, Uint8Array>();
    const host = hostWith(files).run([batchAnchored(1n, m.json.root, BOB, 2, m.digest, { block: 3, logIndex: 0, tx: 'b1' })]);
    expect(host.dump().AnchorBatch).toHaveLength(1);
    expect(host.dump().RecordVersion).toEqual([]);
    expect(host.files).toMatchObject([{ cid: m.cid, done: false }]);
    files.set(m.cid, m.bytes);
    expect(host.resolveFiles().dump().RecordVersion).toHaveLength(2);
    expect(host.files[0]!.done).toBe(true);
  });

  it('takes no versions from a manifest that is not exactly this batch\'s, and warns', () => {
    const m = manifestOf(20, 2);
    const other = manifestOf(30, 2);
    const text = new TextDecoder().decode(m.bytes);
    const bad: Array<[string, Uint8Array, number]> = [
      ['another batch (root differs)', other.bytes, 2],
      ['wrong leaf count', m.bytes, 3],
      ['not canonical (spaces)', utf8(JSON.stringify(m.json, null, 1)), 2],
      ['not canonical (key order)', utf8(JSON.stringify({ root: m.json.root, format: m.json.format, leaves: m.json.leaves })), 2],
      ['extra key', utf8(text.replace('"version":1}', '"version":1,"patient":"x"}')), 2],
      ['version 0', utf8(text.replace('"version":1}', '"version":0}')), 2],
      ['version 1.0', utf8(text.replace('"version":1}', '"version":1.0}')), 2],
      ['uppercase hex', utf8(text.replace(m.json.leaves[0]!.leaf, m.json.leaves[0]!.leaf.toUpperCase().replace('0X', '0x'))), 2],
      ['duplicate leaf', utf8(text.replace(m.json.leaves[1]!.leaf, m.json.leaves[0]!.leaf)), 2],
      ['not JSON', utf8('{"format":'), 2],
      ['not UTF-8', Uint8Array.from([0xff, 0xfe, 0x00]), 2],
    ];
    for (const [why, bytes, leafCount] of bad) {
      const digest = `0x${'ab'.repeat(31)}${bad.findIndex((b) => b[0] === why).toString(16).padStart(2, '0')}` as Hex;
      const host = hostWith(new Map([[manifestCid(digest), bytes]])).run([
        batchAnchored(1n, m.json.root, BOB, leafCount, digest, { block: 4, logIndex: 0, tx: `bad-${why}` }),
      ]);
      expect(host.dump().RecordVersion, why).toEqual([]);
      expect(host.dump().AnchorBatch, why).toHaveLength(1);
      expect(host.logs, why).toEqual([{ level: 'warning', message: expect.stringMatching(/is not a valid manifest of this batch/) }]);
    }
  });

  it('a leaf anchored again in another batch is a second RecordVersion, never a collision', () => {
    const leaves = [syntheticLeaf(ALICE, 40), syntheticLeaf(ALICE, 41)];
    const first = buildBatchManifest(leaves.slice(0, 1), buildBatch(leaves.slice(0, 1)));
    const second = buildBatchManifest(leaves, buildBatch(leaves));
    const host = hostWith(new Map([[first.cid, first.bytes], [second.cid, second.bytes]])).run([
      batchAnchored(1n, first.json.root, BOB, 1, first.digest, { block: 5, logIndex: 0, tx: 'c1' }),
      batchAnchored(2n, second.json.root, ALICE, 2, second.digest, { block: 6, logIndex: 0, tx: 'c2' }),
    ]);
    const versions = host.dump().RecordVersion!;
    expect(versions).toHaveLength(3);
    expect(versions.filter((v) => v.leaf === first.json.leaves[0]!.leaf).map((v) => v.batch).sort()).toEqual(
      [first.json.root, second.json.root].sort(),
    );
  });
});
