import type { Hex } from 'viem';

/**
 * Id of an event entity: the transaction hash followed by the log index as a big-endian uint32,
 * lowercase hex (the subgraph's ids.ts builds the same bytes).
 */
export function eventId(transactionHash: Hex, logIndex: number): string {
  if (!Number.isInteger(logIndex) || logIndex < 0 || logIndex > 0xffff_ffff) {
    throw new RangeError(`log index ${logIndex} does not fit in a uint32`);
  }
  return `${transactionHash.toLowerCase()}${logIndex.toString(16).padStart(8, '0')}`;
}
