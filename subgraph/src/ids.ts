// Entity ids shared by every mapping. The embedded indexer (workers/src/indexer) builds the
// same ids; the parity test (test/parity.test.ts) holds both to it.
import { Address, Bytes, ethereum } from '@graphprotocol/graph-ts';

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
