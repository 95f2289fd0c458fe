// Entity ids shared by every mapping. The embedded indexer (workers/src/indexer) builds the
// same ids; the parity test (test/parity.test.ts) holds both to it.
import { Address, BigInt, Bytes, ethereum } from '@graphprotocol/graph-ts';

/** Event entity id: the transaction hash followed by the log index as 4 big-endian bytes. */
export function eventId(event: ethereum.Event): Bytes {
  const index = event.logIndex.toU32();
  const suffix = new Bytes(4);
  suffix[0] = u8(index >>> 24);
  suffix[1] = u8(index >>> 16);
  suffix[2] = u8(index >>> 8);
  suffix[3] = u8(index);
  return event.transaction.hash.concat(suffix);
}

/** Patient id: the patient's 20 address bytes. */
export function patientId(patient: Address): Bytes {
  return changetype<Bytes>(patient);
}

/** Organization, PatientPolicy and CommitteeMember ids: the account's 20 address bytes. */
export function accountId(account: Address): Bytes {
  return changetype<Bytes>(account);
}

/** Grant and BreakGlass ids: the patient's address followed by the organisation's (40 bytes). */
export function pairId(patient: Address, organization: Address): Bytes {
  return changetype<Bytes>(patient).concat(changetype<Bytes>(organization));
}

/** AccessRequest id: the request id as 32 big-endian bytes (a uint256; hex order is numeric order). */
export function requestId(id: BigInt): Bytes {
  // graph-ts BigInt bytes are little-endian two's complement; a uint256 has at most 33 (a sign byte).
  const out = new Bytes(32);
  const n = id.length < 32 ? id.length : 32;
  for (let i = 0; i < n; i++) out[31 - i] = id[i];
  return out;
}

/** LogRoot id: the member's address followed by the root (52 bytes). */
export function logRootId(member: Address, root: Bytes): Bytes {
  return changetype<Bytes>(member).concat(root);
}

/** RecordVersion id: the batch root followed by the leaf hash (64 bytes). */
export function recordVersionId(root: Bytes, leaf: Bytes): Bytes {
  return root.concat(leaf);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * The CID of a blob from its sha2-256 digest: CIDv1, raw codec, sha2-256 multihash, base32
 * (RFC 4648, lowercase, no padding) with the multibase prefix `b`, as sdk/src/blobs/cid.ts makes it.
 */
export function blobCid(digest: Bytes): string {
  const bytes = new Bytes(4 + digest.length);
  bytes[0] = 0x01; // CIDv1
  bytes[1] = 0x55; // raw
  bytes[2] = 0x12; // sha2-256
  bytes[3] = u8(digest.length);
  for (let i = 0; i < digest.length; i++) bytes[4 + i] = digest[i];
  let out = 'b';
  let buffer: u32 = 0;
  let bits: u32 = 0;
  for (let i = 0; i < bytes.length; i++) {
    buffer = ((buffer << 8) | bytes[i]) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32.charAt(i32((buffer >>> (bits - 5)) & 31));
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32.charAt(i32((buffer << (5 - bits)) & 31));
  return out;
}

/** Study and Purchase ids: the uint256 id as 32 big-endian bytes (as requestId). */
export function uintId(id: BigInt): Bytes {
  return requestId(id);
}
