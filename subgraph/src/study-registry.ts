// Mappings of StudyRegistry events (contracts/src/interfaces/IStudyRegistry.sol): the mutable
// Study with its terms and status, one immutable IrbDecision per decision or suspension and one
// Enrollment per enrolled participant. The embedded indexer mirrors them
// (workers/src/indexer/mappings/study-registry.ts).
import { BigInt, Bytes, ethereum, log } from '@graphprotocol/graph-ts';
import {
  Enrolled,
  StudyCreated,
  StudyDecided,
  StudyStatusChanged,
  StudySuspended,
} from '../generated/StudyRegistry/StudyRegistry';
import { Enrollment, IrbDecision, Study } from '../generated/schema';
import { eventId, uintId } from './ids';

const STATUSES = ['Pending', 'Approved', 'Rejected', 'Paused', 'Closed', 'Suspended'];

/** IStudyRegistry.Status as a name (new values are only ever appended). */
export function statusName(status: i32): string {
  return status >= 0 && status < STATUSES.length ? STATUSES[status] : 'Unknown';
}

export function touchStudy(study: Study, event: ethereum.Event): void {
  study.updatedAtBlock = event.block.number;
  study.updatedAtTimestamp = event.block.timestamp;
}

/** The study, or null (logged) for one created before the start block. */
export function loadStudy(studyId: BigInt, what: string): Study | null {
  const study = Study.load(uintId(studyId));
  if (study == null) log.warning('{} for a study created before the start block: {}', [what, studyId.toString()]);
  return study;
}

export function handleStudyCreated(event: StudyCreated): void {
  const p = event.params.params;
  const study = new Study(uintId(event.params.studyId));
  study.studyId = event.params.studyId;
  study.researcher = event.params.researcher;
  study.metadataHash = p.metadataHash;
  study.protocolHash = p.protocolHash;
  study.consentHash = p.consentHash;
  study.criteriaHash = p.criteriaHash;
  study.categories = p.categories;
  study.paymentToken = p.paymentToken;
  study.pricePerParticipant = p.pricePerParticipant;
  study.consentDuration = p.consentDuration;
  study.minCohort = i32(p.minCohort.toU32());
  study.maxParticipants = i32(p.maxParticipants.toU32());
  study.status = statusName(0);
  study.participants = 0;
  study.active = 0;
  study.purchases = 0;
  study.purchased = BigInt.zero();
  study.confirmed = BigInt.zero();
  study.refunded = BigInt.zero();
  study.claimed = BigInt.zero();
  study.createdAtBlock = event.block.number;
  study.createdAtTimestamp = event.block.timestamp;
  touchStudy(study, event);
  study.save();
}

function saveDecision(event: ethereum.Event, studyId: BigInt, irb: Bytes, decision: string, rationaleHash: Bytes): void {
  const entity = new IrbDecision(eventId(event));
  entity.study = uintId(studyId);
  entity.irb = irb;
  entity.decision = decision;
  entity.rationaleHash = rationaleHash;
  entity.blockNumber = event.block.number;
  entity.blockTimestamp = event.block.timestamp;
  entity.transactionHash = event.transaction.hash;
  entity.save();
}

export function handleStudyDecided(event: StudyDecided): void {
  const decision = event.params.approved ? 'approved' : 'rejected';
  saveDecision(event, event.params.studyId, event.params.irb, decision, event.params.rationaleHash);
}

export function handleStudySuspended(event: StudySuspended): void {
  saveDecision(event, event.params.studyId, event.params.irb, 'suspended', event.params.rationaleHash);
}

export function handleStudyStatusChanged(event: StudyStatusChanged): void {
  const study = loadStudy(event.params.studyId, 'StudyStatusChanged');
  if (study == null) return;
  study.status = statusName(event.params.to);
  touchStudy(study, event);
  study.save();
}

export function handleEnrolled(event: Enrolled): void {
  const entity = new Enrollment(eventId(event));
  entity.study = uintId(event.params.studyId);
  entity.participant = event.params.participant;
  entity.nullifier = event.params.nullifier;
  entity.extractHash = event.params.extractHash;
  entity.expiresAt = event.params.expiresAt;
  entity.blockNumber = event.block.number;
  entity.blockTimestamp = event.block.timestamp;
  entity.transactionHash = event.transaction.hash;
  entity.save();
  const study = loadStudy(event.params.studyId, 'Enrolled');
  if (study == null) return;
  study.participants = study.participants + 1;
  touchStudy(study, event);
  study.save();
}
