// AccessGrants handlers. They mirror the subgraph's mappings (subgraph/src/access-grants.ts)
// field for field; the parity test holds both to the same entities.
import { accessGrantsAbi } from '@consentry/sdk/abi/generated';
import type { Address, Hex } from 'viem';
import type { EntityRows, MutableEntityName } from '../../db/store.ts';
import { eventId } from '../ids.ts';
import type { PageContext } from '../page.ts';
import { ZERO_ADDRESS } from './organization-registry.ts';
import type { EventMeta } from './patient-registry.ts';

/** The ABI items of the AccessGrants events the indexer follows. */
export const accessGrantsEvents = accessGrantsAbi.filter(
  (item): item is Extract<(typeof accessGrantsAbi)[number], { type: 'event' }> => item.type === 'event',
);

export type AccessGrantsEvent =
  | (EventMeta & {
      eventName: 'RequestCreated';
      args: { requestId: bigint; patient: Address; requester: Address; categories: number; purpose: number; duration: number };
    })
  | (EventMeta & {
      eventName: 'RequestApproved';
      args: { requestId: bigint; patient: Address; grantee: Address; categories: number; purpose: number; expiresAt: bigint };
    })
  | (EventMeta & { eventName: 'RequestDenied'; args: { requestId: bigint; patient: Address; requester: Address } })
  | (EventMeta & { eventName: 'RequestCancelled'; args: { requestId: bigint; patient: Address; requester: Address } })
  | (EventMeta & { eventName: 'GrantRevoked'; args: { patient: Address; grantee: Address; requestId: bigint } })
  | (EventMeta & { eventName: 'PolicyUpdated'; args: { patient: Address; neverShare: number; bannedKinds: number } })
  | (EventMeta & {
      eventName: 'BreakGlassOpened';
      args: { patient: Address; provider: Address; categories: number; expiresAt: bigint; reasonHash: Hex };
    })
  | (EventMeta & { eventName: 'BreakGlassClosed'; args: { patient: Address; provider: Address; closedBy: Address } });

const hex = (value: string): string => value.toLowerCase();

/** AccessRequest id: the request id as 32 big-endian bytes (subgraph/src/ids.ts requestId). */
export function requestEntityId(requestId: bigint): string {
  return `0x${requestId.toString(16).padStart(64, '0')}`;
}

/** Grant and BreakGlass id: the patient's address followed by the organisation's. */
export function pairEntityId(patient: Address, organization: Address): string {
  return `${hex(patient)}${hex(organization).slice(2)}`;
}

export function accessEntitiesRead(event: AccessGrantsEvent): Array<[MutableEntityName, string]> {
  switch (event.eventName) {
    case 'RequestCreated':
    case 'RequestDenied':
    case 'RequestCancelled':
      return [['AccessRequest', requestEntityId(event.args.requestId)]];
    case 'RequestApproved':
      return [
        ['AccessRequest', requestEntityId(event.args.requestId)],
        ['Grant', pairEntityId(event.args.patient, event.args.grantee)],
      ];
    case 'GrantRevoked':
      return [['Grant', pairEntityId(event.args.patient, event.args.grantee)]];
    case 'PolicyUpdated':
      return [['PatientPolicy', hex(event.args.patient)]];
    case 'BreakGlassOpened':
    case 'BreakGlassClosed':
      return [['BreakGlass', pairEntityId(event.args.patient, event.args.provider)]];
  }
}

type AccessEventRow = EntityRows['AccessEvent'];

/** An inbox event row; PatientRegistry's recovery handlers write them too (subgraph: accessEvent). */
export function accessEvent(
  event: EventMeta,
  kind: string,
  patient: Address,
  organization: Address,
  actor: Address,
  details: Partial<Pick<AccessEventRow, 'requestId' | 'categories' | 'purpose' | 'duration' | 'expiresAt' | 'reasonHash'>>,
): AccessEventRow {
  return {
    id: eventId(event.transactionHash, event.logIndex),
    kind,
    patient: hex(patient),
    organization: hex(organization),
    actor: hex(actor),
    requestId: null,
    categories: null,
    purpose: null,
    duration: null,
    expiresAt: null,
    reasonHash: null,
    ...details,
    blockNumber: BigInt(event.blockNumber),
    blockTimestamp: event.blockTimestamp,
    transactionHash: hex(event.transactionHash),
    logIndex: BigInt(event.logIndex),
  };
}

/** A request's new status; like the mapping, a request made before the start block is left alone. */
function settle(ctx: PageContext, event: EventMeta, requestId: bigint, status: string, extra: Partial<EntityRows['AccessRequest']> = {}): void {
  const current = ctx.get('AccessRequest', requestEntityId(requestId));
  if (!current) return;
  ctx.save('AccessRequest', {
    ...current,
    status,
    updatedAtBlock: BigInt(event.blockNumber),
    updatedAtTimestamp: event.blockTimestamp,
    ...extra,
  });
}

export function handleAccessGrantsEvent(ctx: PageContext, event: AccessGrantsEvent): void {
  const block = BigInt(event.blockNumber);
  const touched = { updatedAtBlock: block, updatedAtTimestamp: event.blockTimestamp };
  switch (event.eventName) {
    case 'RequestCreated': {
      const a = event.args;
      const duration = BigInt(a.duration);
      ctx.insert(
        'AccessEvent',
        accessEvent(event, 'REQUEST_CREATED', a.patient, a.requester, a.requester, {
          requestId: a.requestId,
          categories: a.categories,
          purpose: a.purpose,
          duration,
        }),
      );
      ctx.save('AccessRequest', {
        id: requestEntityId(a.requestId),
        requestId: a.requestId,
        patient: hex(a.patient),
        requester: hex(a.requester),
        categories: a.categories,
        purpose: a.purpose,
        duration,
        status: 'PENDING',
        approvedCategories: 0,
        expiresAt: 0n,
        createdAtBlock: block,
        createdAtTimestamp: event.blockTimestamp,
        ...touched,
      });
      return;
    }
    case 'RequestApproved': {
      const a = event.args;
      ctx.insert(
        'AccessEvent',
        accessEvent(event, 'REQUEST_APPROVED', a.patient, a.grantee, a.patient, {
          requestId: a.requestId,
          categories: a.categories,
          purpose: a.purpose,
          expiresAt: a.expiresAt,
        }),
      );
      // The approval replaces any earlier grant to the same organisation, as on chain.
      ctx.save('Grant', {
        id: pairEntityId(a.patient, a.grantee),
        patient: hex(a.patient),
        grantee: hex(a.grantee),
        categories: a.categories,
        purpose: a.purpose,
        requestId: a.requestId,
        grantedAt: event.blockTimestamp,
        expiresAt: a.expiresAt,
        revoked: false,
        revokedAt: 0n,
        ...touched,
      });
      settle(ctx, event, a.requestId, 'APPROVED', { approvedCategories: a.categories, expiresAt: a.expiresAt });
      return;
    }
    case 'RequestDenied': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'REQUEST_DENIED', a.patient, a.requester, a.patient, { requestId: a.requestId }));
      settle(ctx, event, a.requestId, 'DENIED');
      return;
    }
    case 'RequestCancelled': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'REQUEST_CANCELLED', a.patient, a.requester, a.requester, { requestId: a.requestId }));
      settle(ctx, event, a.requestId, 'CANCELLED');
      return;
    }
    case 'GrantRevoked': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'GRANT_REVOKED', a.patient, a.grantee, a.patient, { requestId: a.requestId }));
      const current = ctx.get('Grant', pairEntityId(a.patient, a.grantee));
      if (!current) return;
      ctx.save('Grant', { ...current, revoked: true, revokedAt: event.blockTimestamp, ...touched });
      return;
    }
    case 'PolicyUpdated': {
      const a = event.args;
      ctx.save('PatientPolicy', { id: hex(a.patient), neverShare: a.neverShare, bannedKinds: a.bannedKinds, ...touched });
      return;
    }
    case 'BreakGlassOpened': {
      const a = event.args;
      ctx.insert(
        'AccessEvent',
        accessEvent(event, 'BREAK_GLASS_OPENED', a.patient, a.provider, a.provider, {
          categories: a.categories,
          expiresAt: a.expiresAt,
          reasonHash: hex(a.reasonHash),
        }),
      );
      const id = pairEntityId(a.patient, a.provider);
      const previous = ctx.get('BreakGlass', id);
      ctx.save('BreakGlass', {
        id,
        patient: hex(a.patient),
        provider: hex(a.provider),
        categories: a.categories,
        reasonHash: hex(a.reasonHash),
        openedAt: event.blockTimestamp,
        expiresAt: a.expiresAt,
        closed: false,
        closedBy: ZERO_ADDRESS,
        closedAt: 0n,
        openings: (previous?.openings ?? 0) + 1,
        ...touched,
      });
      return;
    }
    case 'BreakGlassClosed': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'BREAK_GLASS_CLOSED', a.patient, a.provider, a.closedBy, {}));
      const current = ctx.get('BreakGlass', pairEntityId(a.patient, a.provider));
      if (!current) return;
      ctx.save('BreakGlass', { ...current, closed: true, closedBy: hex(a.closedBy), closedAt: event.blockTimestamp, ...touched });
      return;
    }
  }
}
