import type { Address } from 'viem';
import { NO_SUPERSEDES, recordIdFor, type RecordLeaf } from '../anchor/leaf.ts';
import { cidOf } from '../blobs/cid.ts';

/** The n-th synthetic record leaf of a patient (tests and benchmarks): distinct id and ciphertext per n. */
export function syntheticLeaf(patient: Address, n: number, overrides: Partial<RecordLeaf> = {}): RecordLeaf {
  return {
    patient,
    recordId: recordIdFor(patient, 'Observation', `synthetic-${n}`),
    version: 1,
    category: 'labs',
    cid: cidOf(new TextEncoder().encode(`ciphertext ${n}`)),
    supersedes: NO_SUPERSEDES,
    ...overrides,
  };
}
