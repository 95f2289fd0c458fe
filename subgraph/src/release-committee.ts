// Mappings of ReleaseCommittee events (contracts/src/interfaces/IReleaseCommittee.sol): the
// mutable CommitteeMember, one immutable CommitteeEpoch per epoch and one LogRoot per posted
// access-log root. The embedded indexer mirrors them (workers/src/indexer/mappings/release-committee.ts).
import { Address, BigInt, ethereum, log } from '@graphprotocol/graph-ts';
import {
  EpochStarted,
  LogRootPosted,
  MemberAdded,
  MemberKeyRotated,
  MemberRemoved,
} from '../generated/ReleaseCommittee/ReleaseCommittee';
import { CommitteeEpoch, CommitteeMember, LogRoot } from '../generated/schema';
import { accountId, eventId, logRootId } from './ids';

function touch(member: CommitteeMember, event: ethereum.Event): void {
  member.updatedAtBlock = event.block.number;
  member.updatedAtTimestamp = event.block.timestamp;
}

/** The member, or null (logged) for one added before the start block. */
function loadMember(account: Address, what: string): CommitteeMember | null {
  const member = CommitteeMember.load(accountId(account));
  if (member == null) log.warning('{} for a member added before the start block: {}', [what, account.toHexString()]);
  return member;
}

export function handleMemberAdded(event: MemberAdded): void {
  // A removed member can be added again: keep the count of key rotations.
  const previous = CommitteeMember.load(accountId(event.params.member));
  const member = new CommitteeMember(accountId(event.params.member));
  member.encryptionKey = event.params.encryptionKey;
  member.active = true;
  member.addedAtEpoch = event.params.epoch;
  member.removedAtEpoch = BigInt.zero();
  member.keyRotations = previous == null ? 0 : previous.keyRotations;
  touch(member, event);
  member.save();
}

export function handleMemberRemoved(event: MemberRemoved): void {
  const member = loadMember(event.params.member, 'MemberRemoved');
  if (member == null) return;
  member.active = false;
  member.removedAtEpoch = event.params.epoch;
  touch(member, event);
  member.save();
}

export function handleMemberKeyRotated(event: MemberKeyRotated): void {
  const member = loadMember(event.params.member, 'MemberKeyRotated');
  if (member == null) return;
  member.encryptionKey = event.params.newKey;
  member.keyRotations = member.keyRotations + 1;
  touch(member, event);
  member.save();
}

export function handleEpochStarted(event: EpochStarted): void {
  const epoch = new CommitteeEpoch(eventId(event));
  epoch.epoch = event.params.epoch;
  epoch.size = event.params.size;
  epoch.threshold = event.params.threshold;
  epoch.blockNumber = event.block.number;
  epoch.blockTimestamp = event.block.timestamp;
  epoch.transactionHash = event.transaction.hash;
  epoch.save();
}

export function handleLogRootPosted(event: LogRootPosted): void {
  const root = new LogRoot(logRootId(event.params.member, event.params.root));
  root.member = event.params.member;
  root.root = event.params.root;
  root.count = event.params.count;
  root.epoch = event.params.epoch;
  root.blockNumber = event.block.number;
  root.blockTimestamp = event.block.timestamp;
  root.transactionHash = event.transaction.hash;
  root.save();
}
