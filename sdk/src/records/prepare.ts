/**
 * One record version from a FHIR resource to what is stored (browser-safe): canonical JSON →
 * category → encrypted under a fresh data key → ciphertext into the blob store under its CID → data
 * key sealed to the patient → the leaf to anchor. The plaintext and the data key never leave this
 * function; the data key is wiped once sealed.
 */
import type { Address, Hex } from 'viem';
import { NO_SUPERSEDES, recordIdFor, type RecordLeaf } from '../anchor/leaf.ts';
import type { BlobStore } from '../blobs/types.ts';
import { encryptRecord } from '../crypto/envelope.ts';
import { ConsentryError } from '../errors.ts';
import { canonicalJson } from './canonical.ts';
import { categorize, type Category } from './categories.ts';
import type { FhirResource } from './fhir-types.ts';

export interface PreparedVersion {
  recordId: Hex;
  version: number;
  category: Category;
  resourceType: string;
  fhirId: string;
  cid: string;
  /** The data key sealed to the patient (105 bytes). */
  sealedKey: Uint8Array;
  leaf: RecordLeaf;
}

export interface PrepareOptions {
  resource: FhirResource;
  patient: Address;
  /** Seals a data key to the patient: `createKeySealer(patientPublicKey)`. */
  seal: (dek: Uint8Array) => Uint8Array;
  blobs: BlobStore;
  version?: number;
  /** Leaf hash of the version this one corrects. */
  supersedes?: Hex;
  /** The resource's canonical JSON, when the caller already has it. */
  canonical?: string;
  /** The record id, when the caller already has it. */
  recordId?: Hex;
}

export async function prepareRecordVersion(opts: PrepareOptions): Promise<PreparedVersion> {
  const { resource, patient } = opts;
  if (typeof resource.id !== 'string' || resource.id === '') {
    throw new ConsentryError('RECORD_NO_ID', `A ${resource.resourceType} without an id cannot become a record`);
  }
  const version = opts.version ?? 1;
  const category = categorize(resource);
  const recordId = opts.recordId ?? recordIdFor(patient, resource.resourceType, resource.id);
  const plaintext = new TextEncoder().encode(opts.canonical ?? canonicalJson(resource));
  const { ciphertext, dek } = encryptRecord({ plaintext, recordId, version, category });
  const cid = await opts.blobs.put(ciphertext);
  const sealedKey = opts.seal(dek);
  dek.fill(0);
  plaintext.fill(0);
  return {
    recordId,
    version,
    category,
    resourceType: resource.resourceType,
    fhirId: resource.id,
    cid,
    sealedKey,
    leaf: { patient, recordId, version, category, cid, supersedes: opts.supersedes ?? NO_SUPERSEDES },
  };
}
