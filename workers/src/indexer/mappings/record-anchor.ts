// RecordAnchor handlers and batch manifests. They mirror the subgraph's mappings
// (subgraph/src/record-anchor.ts) field for field; the parity test holds both to the same entities.
// BatchAnchored gives an AnchorBatch and a manifest to fetch; a fetched manifest gives the batch's
// RecordVersions, only if it is exactly this batch's canonical manifest (parseBatchManifest with
// the event's root and leaf count), as the mapping requires.
import { recordAnchorAbi } from '@consentry/sdk/abi/generated';
import { parseBatchManifest } from '@consentry/sdk/anchor/manifest';
import type { Address, Hex } from 'viem';
import type { EntityRows, PendingManifest } from '../../db/store.ts';
import type { PageContext } from '../page.ts';
import type { EventMeta } from './patient-registry.ts';

/** The ABI items of the RecordAnchor events the indexer follows. */
export const recordAnchorEvents = recordAnchorAbi.filter(
  (item): item is Extract<(typeof recordAnchorAbi)[number], { type: 'event' }> => item.type === 'event',
);

export type RecordAnchorEvent = EventMeta & {
  eventName: 'BatchAnchored';
  args: { batchId: bigint; root: Hex; submitter: Address; leafCount: number; manifest: Hex };
};

const hex = (value: string): string => value.toLowerCase();

export function handleBatchAnchored(ctx: PageContext, event: RecordAnchorEvent): void {
  const root = hex(event.args.root);
  ctx.insert('AnchorBatch', {
    id: root,
    batchId: event.args.batchId,
    root,
    submitter: hex(event.args.submitter),
    leafCount: BigInt(event.args.leafCount),
    manifest: hex(event.args.manifest),
    blockNumber: BigInt(event.blockNumber),
    blockTimestamp: event.blockTimestamp,
    transactionHash: hex(event.transactionHash),
  });
  ctx.fetchManifest({
    batch: root,
    manifest: hex(event.args.manifest),
    leafCount: event.args.leafCount,
    blockNumber: event.blockNumber,
    attempts: 0,
    nextAttemptAt: 0,
  });
}

export function handleRecordAnchorEvent(ctx: PageContext, event: RecordAnchorEvent): void {
  switch (event.eventName) {
    case 'BatchAnchored':
      return handleBatchAnchored(ctx, event);
  }
}

/**
 * The RecordVersions a fetched manifest gives its batch. Throws ManifestError when the bytes are
 * not exactly the batch's canonical manifest (then the batch keeps no versions, as in the mapping).
 */
export function recordVersionsOf(pending: PendingManifest, bytes: Uint8Array): EntityRows['RecordVersion'][] {
  const manifest = parseBatchManifest(bytes, { root: pending.batch as Hex, leafCount: pending.leafCount });
  return manifest.leaves.map((l) => ({
    id: `${pending.batch}${l.leaf.slice(2)}`,
    batch: pending.batch,
    leaf: l.leaf,
    recordId: l.recordId,
    version: l.version,
    blockNumber: BigInt(pending.blockNumber),
  }));
}
