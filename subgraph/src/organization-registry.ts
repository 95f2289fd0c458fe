// Mappings of OrganizationRegistry events (contracts/src/interfaces/IOrganizationRegistry.sol):
// the mutable Organization they describe. The embedded indexer mirrors them
// (workers/src/indexer/mappings/organization-registry.ts).
import { Address, BigInt, Bytes, log } from '@graphprotocol/graph-ts';
import {
  OrganizationAccredited,
  OrganizationRegistered,
  OrganizationSuspended,
  OrganizationUpdated,
} from '../generated/OrganizationRegistry/OrganizationRegistry';
import { Organization } from '../generated/schema';
import { accountId } from './ids';

const ZERO_HASH = Bytes.fromHexString('0x0000000000000000000000000000000000000000000000000000000000000000');

export function handleOrganizationRegistered(event: OrganizationRegistered): void {
  // The contract registers an address once, so an Organization never exists here.
  const org = new Organization(accountId(event.params.org));
  org.kind = event.params.kind;
  org.nameHash = event.params.nameHash;
  org.metadataHash = event.params.metadataHash;
  org.accredited = false;
  org.accreditedUntil = BigInt.zero();
  org.accreditedBy = Address.zero();
  org.suspensionReasonHash = ZERO_HASH;
  org.registeredAtBlock = event.block.number;
  org.registeredAtTimestamp = event.block.timestamp;
  org.updatedAtBlock = event.block.number;
  org.updatedAtTimestamp = event.block.timestamp;
  org.save();
}

/** The registered organisation, or null (logged) for one registered before the start block. */
function loadOrganization(org: Address, what: string): Organization | null {
  const entity = Organization.load(accountId(org));
  if (entity == null) log.warning('{} for an organisation registered before the start block: {}', [what, org.toHexString()]);
  return entity;
}

export function handleOrganizationUpdated(event: OrganizationUpdated): void {
  const org = loadOrganization(event.params.org, 'OrganizationUpdated');
  if (org == null) return;
  org.nameHash = event.params.nameHash;
  org.metadataHash = event.params.metadataHash;
  org.updatedAtBlock = event.block.number;
  org.updatedAtTimestamp = event.block.timestamp;
  org.save();
}

export function handleOrganizationAccredited(event: OrganizationAccredited): void {
  const org = loadOrganization(event.params.org, 'OrganizationAccredited');
  if (org == null) return;
  org.accredited = true;
  org.accreditedUntil = event.params.accreditedUntil;
  org.accreditedBy = event.params.accreditor;
  org.updatedAtBlock = event.block.number;
  org.updatedAtTimestamp = event.block.timestamp;
  org.save();
}

export function handleOrganizationSuspended(event: OrganizationSuspended): void {
  const org = loadOrganization(event.params.org, 'OrganizationSuspended');
  if (org == null) return;
  org.accredited = false;
  org.accreditedBy = event.params.accreditor;
  org.suspensionReasonHash = event.params.reasonHash;
  org.updatedAtBlock = event.block.number;
  org.updatedAtTimestamp = event.block.timestamp;
  org.save();
}
