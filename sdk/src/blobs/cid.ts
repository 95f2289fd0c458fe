/** CIDs of blobs (browser-safe): CIDv1, raw codec, sha2-256, base32 (`bafkrei…`). */
import { sha256 } from '@noble/hashes/sha2.js';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { InvalidCidError } from './types.ts';

const RAW_CODEC = 0x55;
const SHA2_256 = 0x12;

/** The CID of `bytes`. */
export function cidOf(bytes: Uint8Array): string {
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, sha256(bytes))).toString();
}

/** The CID of the blob whose sha2-256 digest is `digest` (32 bytes): the inverse of cidDigest. */
export function cidFromDigest(digest: Uint8Array): string {
  if (digest.length !== 32) throw new InvalidCidError(`(${digest.length}-byte digest)`, 'a sha2-256 digest has 32 bytes');
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, digest)).toString();
}

/** Parses a blob CID, refusing anything but CIDv1/raw/sha2-256 (so a CID is also a safe file name). */
export function parseBlobCid(cid: string): CID {
  let parsed: CID;
  try {
    parsed = CID.parse(cid);
  } catch {
    throw new InvalidCidError(cid, 'does not parse');
  }
  if (parsed.version !== 1 || parsed.code !== RAW_CODEC || parsed.multihash.code !== SHA2_256) {
    throw new InvalidCidError(cid, 'must be CIDv1, raw codec, sha2-256');
  }
  if (parsed.toString() !== cid) throw new InvalidCidError(cid, 'must be in base32');
  return parsed;
}

/** The sha2-256 digest inside a blob CID (what a record leaf commits to). */
export function cidDigest(cid: string): Uint8Array {
  return parseBlobCid(cid).multihash.digest;
}
