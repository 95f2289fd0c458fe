// Store semantics every dialect must share: a page is all-or-nothing, and a rollback to a block
// in the middle of a page restores mutable rows as they were at that block.
import { afterAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../indexer/testing/stores.ts';
import { decodeRow, encodeRow, type EntityRows, type PageWrite, type Store } from './store.ts';

const identity = {
  chainId: 31337,
  contractAddress: '0x' + '11'.repeat(20),
  anchorAddress: '0x' + '22'.repeat(20),
  organizationRegistryAddress: null,
  accessGrantsAddress: null,
  releaseCommitteeAddress: null,
  startBlock: 1,
  startBlockHash: '0x' + '01'.repeat(32),
};
const noAnchors = { AnchorBatch: [], RecordVersion: [] };
const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const block = (n: number) => ({ number: n, hash: hash(n), timestamp: 1000 + n });
const alice = '0x' + 'aa'.repeat(20);

function patient(key: string, rotations: number, registered: number, updated: number): EntityRows['Patient'] {
  return {
    id: alice,
    controller: alice,
    encryptionKey: key,
    keyRotations: rotations,
    registeredAtBlock: BigInt(registered),
    registeredAtTimestamp: BigInt(1000 + registered),
    updatedAtBlock: BigInt(updated),
    updatedAtTimestamp: BigInt(1000 + updated),
  };
}

function rotation(n: number, key: string): EntityRows['EncryptionKeyRotated'] {
  return {
    id: hash(n) + '00000000',
    patient: alice,
    previousKey: '0x00',
    newKey: key,
    blockNumber: BigInt(n),
    blockTimestamp: BigInt(1000 + n),
    transactionHash: hash(n),
    logIndex: 0n,
  };
}

describe.each(storeKinds())('store on $name', (kind) => {
  const open: Store[] = [];
  afterAll(async () => {
    for (const s of open) await s.close();
    await kind.cleanup();
  });

  it('rolls back to a block inside a page, restoring mutable rows as of that block', async () => {
    const store = await kind.open();
    open.push(store);
    await store.resetState(identity);
    // One page, blocks 2..6: registered at 2, rotated at 4 and at 6.
    const page: PageWrite = {
      checkpoint: block(6),
      blocks: [block(2), block(4), block(6)],
      inserts: {
        PatientRegistered: [
          { id: hash(2) + '00000000', patient: alice, encryptionKey: '0x01', blockNumber: 2n, blockTimestamp: 1002n, transactionHash: hash(2), logIndex: 0n },
        ],
        EncryptionKeyRotated: [rotation(4, '0x02'), rotation(6, '0x03')],
        ...noAnchors,
      },
      upserts: { Patient: [patient('0x03', 2, 2, 6)] },
      undo: [
        { blockNumber: 2, entity: 'Patient', id: alice, previous: null },
        { blockNumber: 4, entity: 'Patient', id: alice, previous: patient('0x01', 0, 2, 2) },
        { blockNumber: 6, entity: 'Patient', id: alice, previous: patient('0x02', 1, 2, 4) },
      ],
      manifests: [],
      pruneBelow: 0,
    };
    await store.commitPage(page);
    expect(await store.findById('Patient', alice)).toEqual(patient('0x03', 2, 2, 6));

    expect(await store.rollbackTo(block(4))).toEqual({ deleted: 1, restored: 1 });
    expect(await store.findById('Patient', alice)).toEqual(patient('0x02', 1, 2, 4));
    expect(await store.count('EncryptionKeyRotated')).toBe(1);
    expect((await store.readState())?.checkpoint).toEqual(block(4));
    expect((await store.recentBlocks()).map((b) => b.number)).toEqual([2, 4]);

    expect(await store.rollbackTo(block(1))).toEqual({ deleted: 3, restored: 0 }); // two events and the Patient
    expect(await store.findById('Patient', alice)).toBeNull();
    expect(await store.count('PatientRegistered')).toBe(0);
  });

  it('writes a page all or nothing', async () => {
    const store = await kind.open();
    open.push(store);
    await store.resetState(identity);
    const bad: PageWrite = {
      checkpoint: block(3),
      blocks: [block(3)],
      inserts: { PatientRegistered: [], EncryptionKeyRotated: [rotation(3, '0x02')], ...noAnchors },
      // An invalid row (null in a NOT NULL column) fails the page after the event was written.
      upserts: { Patient: [{ ...patient('0x02', 1, 2, 3), encryptionKey: null as unknown as string }] },
      undo: [],
      manifests: [],
      pruneBelow: 0,
    };
    await expect(store.commitPage(bad)).rejects.toThrow();
    expect(await store.count('EncryptionKeyRotated')).toBe(0);
    expect((await store.readState())?.checkpoint).toBeNull();
  });

  it('orders and range-filters uint256 amounts by number, beyond 64 bits', async () => {
    const store = await kind.open();
    open.push(store);
    await store.resetState(identity);
    const amounts = [10n, 9n, 2n ** 200n, 0n, 100n];
    const refund = (i: number, amount: bigint): EntityRows['Refund'] => ({
      id: hash(100 + i) + '00000000',
      purchase: String(i + 1),
      study: '1',
      buyer: alice,
      amount,
      blockNumber: 7n,
      blockTimestamp: 1007n,
      transactionHash: hash(100 + i),
    });
    await store.commitPage({
      checkpoint: block(7),
      blocks: [block(7)],
      inserts: { PatientRegistered: [], EncryptionKeyRotated: [], ...noAnchors, Refund: amounts.map((a, i) => refund(i, a)) },
      upserts: { Patient: [] },
      undo: [],
      manifests: [],
      pruneBelow: 0,
    });
    const sorted = await store.findMany('Refund', { orderBy: 'amount', orderDirection: 'asc', first: 10, skip: 0 });
    expect(sorted.map((r) => r.amount)).toEqual([0n, 9n, 10n, 100n, 2n ** 200n]);
    const over9 = await store.findMany('Refund', { where: [{ field: 'amount', op: 'gt', value: 9n }], orderBy: 'amount', orderDirection: 'desc', first: 10, skip: 0 });
    expect(over9.map((r) => r.amount)).toEqual([2n ** 200n, 100n, 10n]);
    const exactly = await store.findMany('Refund', { where: [{ field: 'amount', op: 'in', value: [9n, 2n ** 200n] }], orderBy: 'amount', first: 10, skip: 0 });
    expect(exactly.map((r) => r.amount)).toEqual([9n, 2n ** 200n]);
  });

  it('prunes block hashes and undo entries below the reorg window', async () => {
    const store = await kind.open();
    open.push(store);
    await store.resetState(identity);
    const empty = { PatientRegistered: [], EncryptionKeyRotated: [], ...noAnchors };
    const rest = { upserts: { Patient: [] }, undo: [], manifests: [] };
    await store.commitPage({ checkpoint: block(10), blocks: [block(5), block(10)], inserts: empty, ...rest, pruneBelow: 0 });
    await store.commitPage({ checkpoint: block(20), blocks: [block(20)], inserts: empty, ...rest, pruneBelow: 10 });
    expect((await store.recentBlocks()).map((b) => b.number)).toEqual([10, 20]);
  });

  it('keeps pending manifests until completed, defers them, and rolls them back with their batch', async () => {
    const store = await kind.open();
    open.push(store);
    await store.resetState(identity);
    const batchAt = (n: number) => ({
      id: hash(100 + n),
      batchId: BigInt(n),
      root: hash(100 + n),
      submitter: alice,
      leafCount: 2n,
      manifest: hash(200 + n),
      blockNumber: BigInt(n),
      blockTimestamp: BigInt(1000 + n),
      transactionHash: hash(300 + n),
    });
    const pendingAt = (n: number) => ({ batch: hash(100 + n), manifest: hash(200 + n), leafCount: 2, blockNumber: n, attempts: 0, nextAttemptAt: 0 });
    const versionsOf = (n: number) =>
      [1, 2].map((i) => ({ id: hash(100 + n) + hash(400 + i).slice(2), batch: hash(100 + n), leaf: hash(400 + i), recordId: hash(500 + i), version: i, blockNumber: BigInt(n) }));
    await store.commitPage({
      checkpoint: block(6),
      blocks: [block(3), block(6)],
      inserts: { PatientRegistered: [], EncryptionKeyRotated: [], AnchorBatch: [batchAt(3), batchAt(6)], RecordVersion: [] },
      upserts: { Patient: [] },
      undo: [],
      manifests: [pendingAt(3), pendingAt(6)],
      pruneBelow: 0,
    });
    expect((await store.dueManifests(Date.now(), 10)).map((m) => m.blockNumber)).toEqual([3, 6]);
    expect(await store.dueManifests(Date.now(), 1)).toEqual([pendingAt(3)]);
    await store.deferManifest(hash(103), 1, 5_000);
    expect((await store.dueManifests(4_999, 10)).map((m) => m.blockNumber)).toEqual([6]);
    expect(await store.dueManifests(5_000, 10)).toEqual([{ ...pendingAt(3), attempts: 1, nextAttemptAt: 5_000 }, pendingAt(6)]);

    expect(await store.completeManifest(hash(103), versionsOf(3))).toBe(true);
    expect(await store.completeManifest(hash(103), versionsOf(3))).toBe(false); // no longer pending: nothing written
    expect(await store.completeManifest(hash(106), versionsOf(6))).toBe(true);
    expect(await store.count('RecordVersion')).toBe(4);
    expect(await store.dueManifests(Date.now(), 10)).toEqual([]);
    expect(await store.findById('RecordVersion', versionsOf(3)[0]!.id)).toEqual(versionsOf(3)[0]);

    // A reorg back to block 4 removes the batch of block 6, its versions, and (had it been
    // pending) its manifest; the batch of block 3 stays whole.
    await store.commitPage({
      checkpoint: block(8),
      blocks: [block(8)],
      inserts: { PatientRegistered: [], EncryptionKeyRotated: [], AnchorBatch: [batchAt(8)], RecordVersion: [] },
      upserts: { Patient: [] },
      undo: [],
      manifests: [pendingAt(8)],
      pruneBelow: 0,
    });
    expect(await store.rollbackTo(block(4))).toEqual({ deleted: 4, restored: 0 }); // two batches, two versions
    expect((await store.findMany('AnchorBatch', { first: 10, skip: 0 })).map((b) => b.blockNumber)).toEqual([3n]);
    expect((await store.findMany('RecordVersion', { first: 10, skip: 0 })).map((v) => v.batch)).toEqual([hash(103), hash(103)]);
    expect(await store.dueManifests(Date.now(), 10)).toEqual([]);
    expect(await store.completeManifest(hash(108), versionsOf(8))).toBe(false);
    expect(await store.count('RecordVersion')).toBe(2);
  });
});

it('undo rows survive JSON with their bigints', () => {
  const row = patient('0x01', 3, 2, 2 ** 40);
  expect(decodeRow(encodeRow(row))).toEqual(row);
});
