// Research marketplace handlers: StudyRegistry, ConsentToken, StudyMarket and IssuerRegistry events. They mirror
// the subgraph's mappings (subgraph/src/{study-registry,consent-token,study-market}.ts) field for
// field; the parity test holds both to the same entities.
import { consentTokenAbi, issuerRegistryAbi, studyMarketAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { numberToHex, type Address, type Hex } from 'viem';
import type { EntityRows, MutableEntityName } from '../../db/store.ts';
import { eventId } from '../ids.ts';
import type { PageContext } from '../page.ts';
import type { EventMeta } from './patient-registry.ts';

const REGISTRY_EVENTS = ['StudyCreated', 'StudyDecided', 'StudySuspended', 'StudyStatusChanged', 'Enrolled'] as const;
const TOKEN_EVENTS = ['ConsentRevoked'] as const;
const MARKET_EVENTS = ['Purchased', 'PurchaseConfirmed', 'PurchaseRefunded', 'HolderJoined', 'HolderLeft', 'Claimed'] as const;

const pick = <T extends { type: string }>(abi: readonly T[], names: readonly string[]) =>
  abi.filter((item) => item.type === 'event' && names.includes((item as { name?: string }).name ?? '')) as unknown as readonly {
    type: 'event';
    name: string;
  }[];

/** The ABI items of the events the indexer follows (not AccessControl's or ERC-1155's). */
export const studyRegistryEvents = pick(studyRegistryAbi, REGISTRY_EVENTS);
export const consentTokenEvents = pick(consentTokenAbi, TOKEN_EVENTS);
export const studyMarketEvents = pick(studyMarketAbi, MARKET_EVENTS);
export const issuerRegistryEvents = pick(issuerRegistryAbi, ['IssuerAdded', 'IssuerRemoved']);

type StudyParams = {
  metadataHash: Hex;
  protocolHash: Hex;
  consentHash: Hex;
  criteriaHash: bigint;
  categories: bigint;
  paymentToken: Address;
  pricePerParticipant: bigint;
  consentDuration: bigint;
  minCohort: number;
  maxParticipants: number;
};

export type MarketEvent =
  | (EventMeta & { eventName: 'StudyCreated'; args: { studyId: bigint; researcher: Address; params: StudyParams } })
  | (EventMeta & { eventName: 'StudyDecided'; args: { studyId: bigint; irb: Address; approved: boolean; rationaleHash: Hex } })
  | (EventMeta & { eventName: 'StudySuspended'; args: { studyId: bigint; irb: Address; rationaleHash: Hex } })
  | (EventMeta & { eventName: 'StudyStatusChanged'; args: { studyId: bigint; from: number; to: number } })
  | (EventMeta & {
      eventName: 'Enrolled';
      args: { studyId: bigint; participant: Address; nullifier: bigint; extractHash: Hex; expiresAt: bigint };
    })
  | (EventMeta & { eventName: 'ConsentRevoked'; args: { studyId: bigint; holder: Address } })
  | (EventMeta & {
      eventName: 'Purchased';
      args: {
        purchaseId: bigint;
        studyId: bigint;
        buyer: Address;
        cohort: number;
        pricePerParticipant: bigint;
        amount: bigint;
        deadline: bigint;
      };
    })
  | (EventMeta & { eventName: 'PurchaseConfirmed'; args: { purchaseId: bigint; studyId: bigint; releaseHash: Hex; rewardPerToken: bigint } })
  | (EventMeta & { eventName: 'PurchaseRefunded'; args: { purchaseId: bigint; studyId: bigint; buyer: Address; amount: bigint } })
  | (EventMeta & { eventName: 'HolderJoined'; args: { studyId: bigint; holder: Address; expiresAt: bigint } })
  | (EventMeta & { eventName: 'HolderLeft'; args: { studyId: bigint; holder: Address; expired: boolean } })
  | (EventMeta & { eventName: 'Claimed'; args: { studyId: bigint; holder: Address; to: Address; amount: bigint } })
  | (EventMeta & { eventName: 'IssuerAdded'; args: { index: bigint; ax: bigint; ay: bigint; leaf: bigint; root: bigint } })
  | (EventMeta & { eventName: 'IssuerRemoved'; args: { index: bigint; leaf: bigint; root: bigint } });

const hex = (value: string): string => value.toLowerCase();
/** Study and Purchase ids: the uint256 as 32 big-endian bytes (the subgraph's uintId). */
export const uintId = (id: bigint): string => numberToHex(id, { size: 32 });

const STATUSES = ['Pending', 'Approved', 'Rejected', 'Paused', 'Closed', 'Suspended'];
/** IStudyRegistry.Status as a name, as the mapping names it. */
export const statusName = (status: number): string => STATUSES[status] ?? 'Unknown';

export function marketEntitiesRead(event: MarketEvent): Array<[MutableEntityName, string]> {
  switch (event.eventName) {
    case 'StudyCreated':
    case 'StudyStatusChanged':
    case 'Enrolled':
    case 'HolderJoined':
    case 'HolderLeft':
    case 'Claimed':
      return [['Study', uintId(event.args.studyId)]];
    case 'Purchased':
    case 'PurchaseConfirmed':
    case 'PurchaseRefunded':
      return [
        ['Study', uintId(event.args.studyId)],
        ['Purchase', uintId(event.args.purchaseId)],
      ];
    case 'IssuerAdded':
    case 'IssuerRemoved':
      return [['Issuer', uintId(event.args.leaf)]];
    default:
      return [];
  }
}

export function handleMarketEvent(ctx: PageContext, event: MarketEvent): void {
  const block = BigInt(event.blockNumber);
  const touched = { updatedAtBlock: block, updatedAtTimestamp: event.blockTimestamp };
  const chain = { blockNumber: block, blockTimestamp: event.blockTimestamp, transactionHash: hex(event.transactionHash) };
  const id = eventId(event.transactionHash, event.logIndex);
  // Like the mappings: a study or purchase from before the start block is left alone.
  const updateStudy = (studyId: bigint, change: (s: EntityRows['Study']) => Partial<EntityRows['Study']>) => {
    const study = ctx.get('Study', uintId(studyId));
    if (study) ctx.save('Study', { ...study, ...change(study), ...touched });
  };
  const settle = (purchaseId: bigint, status: string) => {
    const purchase = ctx.get('Purchase', uintId(purchaseId));
    if (purchase) ctx.save('Purchase', { ...purchase, status, ...touched });
    return purchase;
  };
  switch (event.eventName) {
    case 'StudyCreated': {
      const p = event.args.params;
      ctx.save('Study', {
        id: uintId(event.args.studyId),
        studyId: event.args.studyId,
        researcher: hex(event.args.researcher),
        metadataHash: hex(p.metadataHash),
        protocolHash: hex(p.protocolHash),
        consentHash: hex(p.consentHash),
        criteriaHash: p.criteriaHash,
        categories: p.categories,
        paymentToken: hex(p.paymentToken),
        pricePerParticipant: p.pricePerParticipant,
        consentDuration: p.consentDuration,
        minCohort: p.minCohort,
        maxParticipants: p.maxParticipants,
        status: statusName(0),
        participants: 0,
        active: 0,
        purchases: 0,
        purchased: 0n,
        confirmed: 0n,
        refunded: 0n,
        claimed: 0n,
        createdAtBlock: block,
        createdAtTimestamp: event.blockTimestamp,
        ...touched,
      });
      return;
    }
    case 'StudyDecided':
    case 'StudySuspended': {
      const decision = event.eventName === 'StudySuspended' ? 'suspended' : event.args.approved ? 'approved' : 'rejected';
      ctx.insert('IrbDecision', {
        id,
        study: uintId(event.args.studyId),
        irb: hex(event.args.irb),
        decision,
        rationaleHash: hex(event.args.rationaleHash),
        ...chain,
      });
      return;
    }
    case 'StudyStatusChanged':
      updateStudy(event.args.studyId, () => ({ status: statusName(event.args.to) }));
      return;
    case 'Enrolled':
      ctx.insert('Enrollment', {
        id,
        study: uintId(event.args.studyId),
        participant: hex(event.args.participant),
        nullifier: event.args.nullifier,
        extractHash: hex(event.args.extractHash),
        expiresAt: event.args.expiresAt,
        ...chain,
      });
      updateStudy(event.args.studyId, (s) => ({ participants: s.participants + 1 }));
      return;
    case 'ConsentRevoked':
      ctx.insert('ConsentRevocation', { id, study: uintId(event.args.studyId), holder: hex(event.args.holder), ...chain });
      return;
    case 'Purchased':
      ctx.save('Purchase', {
        id: uintId(event.args.purchaseId),
        purchaseId: event.args.purchaseId,
        study: uintId(event.args.studyId),
        buyer: hex(event.args.buyer),
        cohort: event.args.cohort,
        pricePerParticipant: event.args.pricePerParticipant,
        amount: event.args.amount,
        deadline: event.args.deadline,
        status: 'pending',
        createdAtBlock: block,
        createdAtTimestamp: event.blockTimestamp,
        ...touched,
      });
      updateStudy(event.args.studyId, (s) => ({ purchases: s.purchases + 1, purchased: s.purchased + event.args.amount }));
      return;
    case 'PurchaseConfirmed': {
      ctx.insert('PurchaseConfirmation', {
        id,
        purchase: uintId(event.args.purchaseId),
        study: uintId(event.args.studyId),
        releaseHash: hex(event.args.releaseHash),
        rewardPerToken: event.args.rewardPerToken,
        ...chain,
      });
      const purchase = settle(event.args.purchaseId, 'confirmed');
      if (purchase) updateStudy(event.args.studyId, (s) => ({ confirmed: s.confirmed + purchase.amount }));
      return;
    }
    case 'PurchaseRefunded':
      ctx.insert('Refund', {
        id,
        purchase: uintId(event.args.purchaseId),
        study: uintId(event.args.studyId),
        buyer: hex(event.args.buyer),
        amount: event.args.amount,
        ...chain,
      });
      settle(event.args.purchaseId, 'refunded');
      updateStudy(event.args.studyId, (s) => ({ refunded: s.refunded + event.args.amount }));
      return;
    case 'HolderJoined':
      updateStudy(event.args.studyId, (s) => ({ active: s.active + 1 }));
      return;
    case 'HolderLeft':
      updateStudy(event.args.studyId, (s) => ({ active: s.active > 0 ? s.active - 1 : 0 }));
      return;
    case 'Claimed':
      ctx.insert('Claim', {
        id,
        study: uintId(event.args.studyId),
        holder: hex(event.args.holder),
        recipient: hex(event.args.to),
        amount: event.args.amount,
        ...chain,
      });
      updateStudy(event.args.studyId, (s) => ({ claimed: s.claimed + event.args.amount }));
      return;
    case 'IssuerAdded': {
      const { index, ax, ay, leaf, root } = event.args;
      ctx.save('Issuer', { id: uintId(leaf), index, ax, ay, leaf, active: true, root, ...touched });
      return;
    }
    case 'IssuerRemoved': {
      const issuer = ctx.get('Issuer', uintId(event.args.leaf));
      if (issuer) ctx.save('Issuer', { ...issuer, active: false, root: event.args.root, ...touched });
      return;
    }
  }
}
