// ReleaseCommittee handlers. They mirror the subgraph's mappings (subgraph/src/release-committee.ts)
// field for field; the parity test holds both to the same entities.
import { releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import type { Address, Hex } from 'viem';
import type { MutableEntityName } from '../../db/store.ts';
import { eventId } from '../ids.ts';
import type { PageContext } from '../page.ts';
import type { EventMeta } from './patient-registry.ts';

const HANDLED = ['MemberAdded', 'MemberRemoved', 'MemberKeyRotated', 'EpochStarted', 'LogRootPosted'] as const;

/** The ABI items of the events the indexer follows (not Ownable's). */
export const releaseCommitteeEvents = releaseCommitteeAbi.filter(
  (item): item is Extract<(typeof releaseCommitteeAbi)[number], { type: 'event'; name: (typeof HANDLED)[number] }> =>
    item.type === 'event' && (HANDLED as readonly string[]).includes(item.name),
);

export type ReleaseCommitteeEvent =
  | (EventMeta & { eventName: 'MemberAdded'; args: { member: Address; encryptionKey: Hex; epoch: bigint } })
  | (EventMeta & { eventName: 'MemberRemoved'; args: { member: Address; epoch: bigint } })
  | (EventMeta & { eventName: 'MemberKeyRotated'; args: { member: Address; previousKey: Hex; newKey: Hex; epoch: bigint } })
  | (EventMeta & { eventName: 'EpochStarted'; args: { epoch: bigint; size: number; threshold: number } })
  | (EventMeta & { eventName: 'LogRootPosted'; args: { member: Address; root: Hex; count: number; epoch: bigint } });

const hex = (value: string): string => value.toLowerCase();

export function committeeEntitiesRead(event: ReleaseCommitteeEvent): Array<[MutableEntityName, string]> {
  switch (event.eventName) {
    case 'MemberAdded':
    case 'MemberRemoved':
    case 'MemberKeyRotated':
      return [['CommitteeMember', hex(event.args.member)]];
    default:
      return [];
  }
}

export function handleReleaseCommitteeEvent(ctx: PageContext, event: ReleaseCommitteeEvent): void {
  const block = BigInt(event.blockNumber);
  const touched = { updatedAtBlock: block, updatedAtTimestamp: event.blockTimestamp };
  const chain = { blockNumber: block, blockTimestamp: event.blockTimestamp, transactionHash: hex(event.transactionHash) };
  switch (event.eventName) {
    case 'MemberAdded': {
      // A removed member can be added again: keep the count of key rotations.
      const id = hex(event.args.member);
      const previous = ctx.get('CommitteeMember', id);
      ctx.save('CommitteeMember', {
        id,
        encryptionKey: hex(event.args.encryptionKey),
        active: true,
        addedAtEpoch: event.args.epoch,
        removedAtEpoch: 0n,
        keyRotations: previous?.keyRotations ?? 0,
        ...touched,
      });
      return;
    }
    case 'MemberRemoved': {
      // Like the mapping: a member added before the start block is left alone.
      const current = ctx.get('CommitteeMember', hex(event.args.member));
      if (!current) return;
      ctx.save('CommitteeMember', { ...current, active: false, removedAtEpoch: event.args.epoch, ...touched });
      return;
    }
    case 'MemberKeyRotated': {
      const current = ctx.get('CommitteeMember', hex(event.args.member));
      if (!current) return;
      ctx.save('CommitteeMember', {
        ...current,
        encryptionKey: hex(event.args.newKey),
        keyRotations: current.keyRotations + 1,
        ...touched,
      });
      return;
    }
    case 'EpochStarted':
      ctx.insert('CommitteeEpoch', {
        id: eventId(event.transactionHash, event.logIndex),
        epoch: event.args.epoch,
        size: event.args.size,
        threshold: event.args.threshold,
        ...chain,
      });
      return;
    case 'LogRootPosted':
      ctx.insert('LogRoot', {
        id: `${hex(event.args.member)}${hex(event.args.root).slice(2)}`,
        member: hex(event.args.member),
        root: hex(event.args.root),
        count: BigInt(event.args.count),
        epoch: event.args.epoch,
        ...chain,
      });
      return;
  }
}
