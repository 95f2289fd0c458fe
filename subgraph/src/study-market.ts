// Mappings of StudyMarket events (contracts/src/interfaces/IStudyMarket.sol): the mutable
// Purchase, immutable PurchaseConfirmation, Refund and Claim, and the market totals and active
// holder count on the Study. The embedded indexer mirrors them
// (workers/src/indexer/mappings/study-market.ts).
import { BigInt, ethereum, log } from '@graphprotocol/graph-ts';
import {
  Claimed,
  HolderJoined,
  HolderLeft,
  PurchaseConfirmed,
  PurchaseRefunded,
  Purchased,
} from '../generated/StudyMarket/StudyMarket';
import { Claim, Purchase, PurchaseConfirmation, Refund } from '../generated/schema';
import { eventId, uintId } from './ids';
import { loadStudy, touchStudy } from './study-registry';

/** The purchase, or null (logged) for one made before the start block. */
function loadPurchase(purchaseId: BigInt, what: string): Purchase | null {
  const purchase = Purchase.load(uintId(purchaseId));
  if (purchase == null) log.warning('{} for a purchase made before the start block: {}', [what, purchaseId.toString()]);
  return purchase;
}

function settle(purchaseId: BigInt, status: string, event: ethereum.Event, what: string): void {
  const purchase = loadPurchase(purchaseId, what);
  if (purchase == null) return;
  purchase.status = status;
  purchase.updatedAtBlock = event.block.number;
  purchase.updatedAtTimestamp = event.block.timestamp;
  purchase.save();
}

export function handlePurchased(event: Purchased): void {
  const purchase = new Purchase(uintId(event.params.purchaseId));
  purchase.purchaseId = event.params.purchaseId;
  purchase.study = uintId(event.params.studyId);
  purchase.buyer = event.params.buyer;
  purchase.cohort = i32(event.params.cohort.toU32());
  purchase.pricePerParticipant = event.params.pricePerParticipant;
  purchase.amount = event.params.amount;
  purchase.deadline = event.params.deadline;
  purchase.status = 'pending';
  purchase.createdAtBlock = event.block.number;
  purchase.createdAtTimestamp = event.block.timestamp;
  purchase.updatedAtBlock = event.block.number;
  purchase.updatedAtTimestamp = event.block.timestamp;
  purchase.save();
  const study = loadStudy(event.params.studyId, 'Purchased');
  if (study == null) return;
  study.purchases = study.purchases + 1;
  study.purchased = study.purchased.plus(event.params.amount);
  touchStudy(study, event);
  study.save();
}

export function handlePurchaseConfirmed(event: PurchaseConfirmed): void {
  const entity = new PurchaseConfirmation(eventId(event));
  entity.purchase = uintId(event.params.purchaseId);
  entity.study = uintId(event.params.studyId);
  entity.releaseHash = event.params.releaseHash;
  entity.rewardPerToken = event.params.rewardPerToken;
  entity.blockNumber = event.block.number;
  entity.blockTimestamp = event.block.timestamp;
  entity.transactionHash = event.transaction.hash;
  entity.save();
  const purchase = Purchase.load(uintId(event.params.purchaseId));
  settle(event.params.purchaseId, 'confirmed', event, 'PurchaseConfirmed');
  const study = loadStudy(event.params.studyId, 'PurchaseConfirmed');
  if (study == null || purchase == null) return;
  study.confirmed = study.confirmed.plus(purchase.amount);
  touchStudy(study, event);
  study.save();
}

export function handlePurchaseRefunded(event: PurchaseRefunded): void {
  const entity = new Refund(eventId(event));
  entity.purchase = uintId(event.params.purchaseId);
  entity.study = uintId(event.params.studyId);
  entity.buyer = event.params.buyer;
  entity.amount = event.params.amount;
  entity.blockNumber = event.block.number;
  entity.blockTimestamp = event.block.timestamp;
  entity.transactionHash = event.transaction.hash;
  entity.save();
  settle(event.params.purchaseId, 'refunded', event, 'PurchaseRefunded');
  const study = loadStudy(event.params.studyId, 'PurchaseRefunded');
  if (study == null) return;
  study.refunded = study.refunded.plus(event.params.amount);
  touchStudy(study, event);
  study.save();
}

export function handleHolderJoined(event: HolderJoined): void {
  const study = loadStudy(event.params.studyId, 'HolderJoined');
  if (study == null) return;
  study.active = study.active + 1;
  touchStudy(study, event);
  study.save();
}

export function handleHolderLeft(event: HolderLeft): void {
  const study = loadStudy(event.params.studyId, 'HolderLeft');
  if (study == null) return;
  study.active = study.active > 0 ? study.active - 1 : 0;
  touchStudy(study, event);
  study.save();
}

export function handleClaimed(event: Claimed): void {
  const entity = new Claim(eventId(event));
  entity.study = uintId(event.params.studyId);
  entity.holder = event.params.holder;
  entity.recipient = event.params.to;
  entity.amount = event.params.amount;
  entity.blockNumber = event.block.number;
  entity.blockTimestamp = event.block.timestamp;
  entity.transactionHash = event.transaction.hash;
  entity.save();
  const study = loadStudy(event.params.studyId, 'Claimed');
  if (study == null) return;
  study.claimed = study.claimed.plus(event.params.amount);
  touchStudy(study, event);
  study.save();
}
