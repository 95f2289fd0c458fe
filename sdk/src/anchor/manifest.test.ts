import { describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { cidOf } from '../blobs/cid.ts';
import { CATEGORIES } from '../records/categories.ts';
import { ANVIL_ACCOUNTS } from '../testing/anvil.ts';
import { syntheticLeaf } from '../testing/leaves.ts';
import { buildBatch, type RecordLeaf } from './leaf.ts';
import {
  buildBatchManifest,
  MANIFEST_FORMAT,
  manifestCid,
  manifestDigest,
  manifestDigestOfCid,
  parseBatchManifest,
  type BatchManifest,
} from './manifest.ts';

const patient = ANVIL_ACCOUNTS[1]!.address;
const leaves: RecordLeaf[] = Array.from({ length: 5 }, (_, i) =>
  syntheticLeaf(patient, i, { version: i + 1, category: CATEGORIES[(i * 3) % CATEGORIES.length]! }),
);
const batch = buildBatch(leaves);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (s: string) => new TextEncoder().encode(s);

describe('batch manifests', () => {
  it('lists the leaves in batch order, as deterministic bytes whose CID and digest match', () => {
    const built = buildBatchManifest(leaves, batch);
    expect(built.json).toEqual({
      format: MANIFEST_FORMAT,
      root: batch.root,
      leaves: leaves.map((l, i) => ({ leaf: batch.leafHashes[i], recordId: l.recordId, version: l.version })),
    });
    expect(text(built.bytes)).toBe(
      `{"format":"consentry/anchor-batch/v1","root":"${batch.root}","leaves":[` +
        leaves.map((l, i) => `{"leaf":"${batch.leafHashes[i]}","recordId":"${l.recordId}","version":${i + 1}}`).join(',') +
        ']}',
    );
    expect(buildBatchManifest(leaves, batch).bytes).toEqual(built.bytes);
    expect(built.cid).toBe(cidOf(built.bytes));
    expect(built.digest).toBe(manifestDigest(built.bytes));
    expect(manifestCid(built.digest)).toBe(built.cid);
    expect(manifestDigestOfCid(built.cid)).toBe(built.digest);
  });

  it('holds ids and hashes only: no patient, category or ciphertext CID', () => {
    const s = text(buildBatchManifest(leaves, batch).bytes);
    expect(s.toLowerCase()).not.toContain(patient.slice(2).toLowerCase());
    for (const l of leaves) {
      expect(s).not.toContain(l.cid);
      expect(s).not.toContain(`"${l.category}"`);
    }
    expect(s).not.toMatch(/patient|category|cid/);
  });

  it('lowercases hex it is given', () => {
    const upper = { root: batch.root.toUpperCase().replace('0X', '0x') as Hex, leafHashes: batch.leafHashes };
    expect(buildBatchManifest(leaves, upper).bytes).toEqual(buildBatchManifest(leaves, batch).bytes);
  });

  it('parses what it builds, and checks it against the batch', () => {
    const built = buildBatchManifest(leaves, batch);
    expect(parseBatchManifest(built.bytes, { root: batch.root, leafCount: 5 })).toEqual(built.json);
    expect(() => parseBatchManifest(built.bytes, { root: `0x${'11'.repeat(32)}` })).toThrowError(/is for root/);
    expect(() => parseBatchManifest(built.bytes, { leafCount: 6 })).toThrowError(/lists 5 leaves, but the batch has 6/);
  });

  it('refuses anything but a valid manifest in canonical form, with a clear error', () => {
    const good = buildBatchManifest(leaves, batch).json;
    const bad = (m: unknown) => bytesOf(JSON.stringify(m));
    const cases: Array<[Uint8Array, RegExp]> = [
      [bytesOf('not json'), /UTF-8 JSON/],
      [Uint8Array.from([0xff, 0xfe]), /UTF-8 JSON/],
      [bad({ ...good, format: 'consentry/anchor-batch/v2' }), /format/],
      [bad({ ...good, leaves: [] }), /at least one leaf/],
      [bad({ ...good, root: good.root.toUpperCase() }), /root: must be 32 bytes of lowercase 0x-hex/],
      [bad({ ...good, leaves: [{ ...good.leaves[0]!, version: 0 }] }), /leaves\.0\.version/],
      [bad({ ...good, leaves: [{ ...good.leaves[0]!, version: 1.5 }] }), /leaves\.0\.version/],
      [bad({ ...good, leaves: [{ ...good.leaves[0]!, patient }] }), /leaves\.0/],
      [bad({ ...good, leaves: [good.leaves[0], good.leaves[0]] }), /repeats leaf/],
      [bad({ ...good, extra: 1 }), /extra/],
      [bytesOf(JSON.stringify(good, null, 1)), /canonical form/],
      [bad({ leaves: good.leaves, root: good.root, format: good.format }), /canonical form/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => parseBatchManifest(bytes)).toThrowError(message);
      expect(() => parseBatchManifest(bytes)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
    }
  });

  it('refuses to build a manifest that could not be parsed back', () => {
    expect(() => buildBatchManifest([], { root: batch.root, leafHashes: [] })).toThrowError(/needs the batch's leaves/);
    expect(() => buildBatchManifest(leaves.slice(1), batch)).toThrowError(/needs the batch's leaves/);
    const huge = [{ ...leaves[0]!, version: 2 ** 31 }];
    expect(() => buildBatchManifest(huge, buildBatch(huge))).toThrowError(/version/);
    const twice = [leaves[0]!, leaves[0]!];
    expect(() => buildBatchManifest(twice, buildBatch(twice))).toThrowError(/repeats leaf/);
  });

  it('a 1024-leaf manifest stays a small blob', () => {
    const many = Array.from({ length: 1024 }, (_, i) => syntheticLeaf(patient, 1000 + i));
    const built = buildBatchManifest(many, buildBatch(many));
    expect(built.bytes.length).toBeLessThan(200_000);
    const m: BatchManifest = parseBatchManifest(built.bytes, { leafCount: 1024 });
    expect(m.leaves).toHaveLength(1024);
  });
});
