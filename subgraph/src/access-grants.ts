// Mappings of AccessGrants events (contracts/src/interfaces/IAccessGrants.sol): the mutable
// AccessRequest, Grant, BreakGlass and PatientPolicy they describe, and one immutable AccessEvent
// per request, approval, denial, cancellation, revocation and break-glass opening or closing (a
// patient's inbox). The embedded indexer mirrors them (workers/src/indexer/mappings/access-grants.ts).
import { Address, BigInt, Bytes, ethereum, log } from '@graphprotocol/graph-ts';
import {
  BreakGlassClosed,
  BreakGlassOpened,
  GrantRevoked,
  PolicyUpdated,
  RequestApproved,
  RequestCancelled,
  RequestCreated,
  RequestDenied,
} from '../generated/AccessGrants/AccessGrants';
import { AccessEvent, AccessRequest, BreakGlass, Grant, PatientPolicy } from '../generated/schema';
import { accountId, eventId, pairId, requestId } from './ids';

/** An inbox event, not yet saved; PatientRegistry's recovery mappings write them too. */
export function accessEvent(event: ethereum.Event, kind: string, patient: Address, organization: Address, actor: Address): AccessEvent {
  const record = new AccessEvent(eventId(event));
  record.kind = kind;
  record.patient = patient;
  record.organization = organization;
  record.actor = actor;
  record.blockNumber = event.block.number;
  record.blockTimestamp = event.block.timestamp;
  record.transactionHash = event.transaction.hash;
  record.logIndex = event.logIndex;
  return record;
}

/** The request, or null (logged) for one made before the start block. */
function loadRequest(id: BigInt, what: string): AccessRequest | null {
  const request = AccessRequest.load(requestId(id));
  if (request == null) log.warning('{} for a request made before the start block: {}', [what, id.toString()]);
  return request;
}

function settle(request: AccessRequest, status: string, event: ethereum.Event): void {
  request.status = status;
  request.updatedAtBlock = event.block.number;
  request.updatedAtTimestamp = event.block.timestamp;
}

export function handleRequestCreated(event: RequestCreated): void {
  const p = event.params;
  const record = accessEvent(event, 'REQUEST_CREATED', p.patient, p.requester, p.requester);
  record.requestId = p.requestId;
  record.categories = p.categories;
  record.purpose = p.purpose;
  record.duration = p.duration;
  record.save();

  // Request ids are sequential and never reused, so an AccessRequest never exists here.
  const request = new AccessRequest(requestId(p.requestId));
  request.requestId = p.requestId;
  request.patient = p.patient;
  request.requester = p.requester;
  request.categories = p.categories;
  request.purpose = p.purpose;
  request.duration = p.duration;
  request.status = 'PENDING';
  request.approvedCategories = 0;
  request.expiresAt = BigInt.zero();
  request.createdAtBlock = event.block.number;
  request.createdAtTimestamp = event.block.timestamp;
  request.updatedAtBlock = event.block.number;
  request.updatedAtTimestamp = event.block.timestamp;
  request.save();
}

export function handleRequestApproved(event: RequestApproved): void {
  const p = event.params;
  const record = accessEvent(event, 'REQUEST_APPROVED', p.patient, p.grantee, p.patient);
  record.requestId = p.requestId;
  record.categories = p.categories;
  record.purpose = p.purpose;
  record.expiresAt = p.expiresAt;
  record.save();

  // The approval replaces any earlier grant to the same organisation, as on chain.
  const grant = new Grant(pairId(p.patient, p.grantee));
  grant.patient = p.patient;
  grant.grantee = p.grantee;
  grant.categories = p.categories;
  grant.purpose = p.purpose;
  grant.requestId = p.requestId;
  grant.grantedAt = event.block.timestamp;
  grant.expiresAt = p.expiresAt;
  grant.revoked = false;
  grant.revokedAt = BigInt.zero();
  grant.updatedAtBlock = event.block.number;
  grant.updatedAtTimestamp = event.block.timestamp;
  grant.save();

  const request = loadRequest(p.requestId, 'RequestApproved');
  if (request == null) return;
  settle(request, 'APPROVED', event);
  request.approvedCategories = p.categories;
  request.expiresAt = p.expiresAt;
  request.save();
}

export function handleRequestDenied(event: RequestDenied): void {
  const p = event.params;
  const record = accessEvent(event, 'REQUEST_DENIED', p.patient, p.requester, p.patient);
  record.requestId = p.requestId;
  record.save();

  const request = loadRequest(p.requestId, 'RequestDenied');
  if (request == null) return;
  settle(request, 'DENIED', event);
  request.save();
}

export function handleRequestCancelled(event: RequestCancelled): void {
  const p = event.params;
  const record = accessEvent(event, 'REQUEST_CANCELLED', p.patient, p.requester, p.requester);
  record.requestId = p.requestId;
  record.save();

  const request = loadRequest(p.requestId, 'RequestCancelled');
  if (request == null) return;
  settle(request, 'CANCELLED', event);
  request.save();
}

export function handleGrantRevoked(event: GrantRevoked): void {
  const p = event.params;
  const record = accessEvent(event, 'GRANT_REVOKED', p.patient, p.grantee, p.patient);
  record.requestId = p.requestId;
  record.save();

  const grant = Grant.load(pairId(p.patient, p.grantee));
  if (grant == null) {
    log.warning('GrantRevoked for a grant made before the start block: {} {}', [p.patient.toHexString(), p.grantee.toHexString()]);
    return;
  }
  grant.revoked = true;
  grant.revokedAt = event.block.timestamp;
  grant.updatedAtBlock = event.block.number;
  grant.updatedAtTimestamp = event.block.timestamp;
  grant.save();
}

export function handlePolicyUpdated(event: PolicyUpdated): void {
  const policy = new PatientPolicy(accountId(event.params.patient));
  policy.neverShare = event.params.neverShare;
  policy.bannedKinds = event.params.bannedKinds;
  policy.updatedAtBlock = event.block.number;
  policy.updatedAtTimestamp = event.block.timestamp;
  policy.save();
}

export function handleBreakGlassOpened(event: BreakGlassOpened): void {
  const p = event.params;
  const record = accessEvent(event, 'BREAK_GLASS_OPENED', p.patient, p.provider, p.provider);
  record.categories = p.categories;
  record.expiresAt = p.expiresAt;
  record.reasonHash = p.reasonHash;
  record.save();

  const id = pairId(p.patient, p.provider);
  const previous = BreakGlass.load(id);
  const window = new BreakGlass(id);
  window.patient = p.patient;
  window.provider = p.provider;
  window.categories = p.categories;
  window.reasonHash = p.reasonHash;
  window.openedAt = event.block.timestamp;
  window.expiresAt = p.expiresAt;
  window.closed = false;
  window.closedBy = Address.zero();
  window.closedAt = BigInt.zero();
  window.openings = previous == null ? 1 : previous.openings + 1;
  window.updatedAtBlock = event.block.number;
  window.updatedAtTimestamp = event.block.timestamp;
  window.save();
}

export function handleBreakGlassClosed(event: BreakGlassClosed): void {
  const p = event.params;
  const record = accessEvent(event, 'BREAK_GLASS_CLOSED', p.patient, p.provider, p.closedBy);
  record.save();

  const window = BreakGlass.load(pairId(p.patient, p.provider));
  if (window == null) {
    log.warning('BreakGlassClosed for a window opened before the start block: {} {}', [p.patient.toHexString(), p.provider.toHexString()]);
    return;
  }
  window.closed = true;
  window.closedBy = p.closedBy;
  window.closedAt = event.block.timestamp;
  window.updatedAtBlock = event.block.number;
  window.updatedAtTimestamp = event.block.timestamp;
  window.save();
}
