// OrganizationRegistry handlers. They mirror the subgraph's mappings
// (subgraph/src/organization-registry.ts) field for field; the parity test holds both to the same entities.
import { organizationRegistryAbi } from '@consentry/sdk/abi/generated';
import type { Address, Hex } from 'viem';
import type { MutableEntityName } from '../../db/store.ts';
import type { PageContext } from '../page.ts';
import type { EventMeta } from './patient-registry.ts';

const HANDLED = ['OrganizationRegistered', 'OrganizationUpdated', 'OrganizationAccredited', 'OrganizationSuspended'] as const;

/** The ABI items of the events the indexer follows (not AccessControl's role events). */
export const organizationRegistryEvents = organizationRegistryAbi.filter(
  (item): item is Extract<(typeof organizationRegistryAbi)[number], { type: 'event'; name: (typeof HANDLED)[number] }> =>
    item.type === 'event' && (HANDLED as readonly string[]).includes(item.name),
);

export type OrganizationRegistryEvent =
  | (EventMeta & {
      eventName: 'OrganizationRegistered';
      args: { org: Address; kind: number; nameHash: Hex; metadataHash: Hex };
    })
  | (EventMeta & { eventName: 'OrganizationUpdated'; args: { org: Address; nameHash: Hex; metadataHash: Hex } })
  | (EventMeta & { eventName: 'OrganizationAccredited'; args: { org: Address; accreditor: Address; accreditedUntil: bigint } })
  | (EventMeta & { eventName: 'OrganizationSuspended'; args: { org: Address; accreditor: Address; reasonHash: Hex } });

export const ZERO_ADDRESS = `0x${'00'.repeat(20)}`;
export const ZERO_HASH = `0x${'00'.repeat(32)}`;
const hex = (value: string): string => value.toLowerCase();

export function organizationEntitiesRead(event: OrganizationRegistryEvent): Array<[MutableEntityName, string]> {
  return [['Organization', hex(event.args.org)]];
}

export function handleOrganizationRegistryEvent(ctx: PageContext, event: OrganizationRegistryEvent): void {
  const id = hex(event.args.org);
  const block = BigInt(event.blockNumber);
  const touched = { updatedAtBlock: block, updatedAtTimestamp: event.blockTimestamp };
  if (event.eventName === 'OrganizationRegistered') {
    // The contract registers an address once, so an Organization never exists here.
    ctx.save('Organization', {
      id,
      kind: event.args.kind,
      nameHash: hex(event.args.nameHash),
      metadataHash: hex(event.args.metadataHash),
      accredited: false,
      accreditedUntil: 0n,
      accreditedBy: ZERO_ADDRESS,
      suspensionReasonHash: ZERO_HASH,
      registeredAtBlock: block,
      registeredAtTimestamp: event.blockTimestamp,
      ...touched,
    });
    return;
  }
  // Like the mapping: an organisation registered before the start block is left alone.
  const current = ctx.get('Organization', id);
  if (!current) return;
  switch (event.eventName) {
    case 'OrganizationUpdated':
      return ctx.save('Organization', {
        ...current,
        nameHash: hex(event.args.nameHash),
        metadataHash: hex(event.args.metadataHash),
        ...touched,
      });
    case 'OrganizationAccredited':
      return ctx.save('Organization', {
        ...current,
        accredited: true,
        accreditedUntil: event.args.accreditedUntil,
        accreditedBy: hex(event.args.accreditor),
        ...touched,
      });
    case 'OrganizationSuspended':
      return ctx.save('Organization', {
        ...current,
        accredited: false,
        accreditedBy: hex(event.args.accreditor),
        suspensionReasonHash: hex(event.args.reasonHash),
        ...touched,
      });
  }
}
