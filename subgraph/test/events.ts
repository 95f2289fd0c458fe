/** Hand-made PatientRegistry logs for the mapping tests (the parity test records real ones). */
import { encodeAbiParameters, keccak256, pad, toEventSelector, toHex, type Address, type Hex } from 'viem';
import type { RecordedLog } from './host/index.ts';

export const REGISTRY: Address = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
export const OTHER_CONTRACT: Address = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512';
export const ALICE: Address = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
export const BOB: Address = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';

export const PATIENT_REGISTERED = toEventSelector('PatientRegistered(address,bytes32)');
export const KEY_ROTATED = toEventSelector('EncryptionKeyRotated(address,bytes32,bytes32)');

/** A distinct 32-byte key per label (stand-ins for X25519 public keys). */
export const key = (label: string): Hex => keccak256(toHex(`key:${label}`));
export const blockHash = (n: number): Hex => keccak256(toHex(`block:${n}`));
export const txHash = (label: string): Hex => keccak256(toHex(`tx:${label}`));
export const timestampOf = (n: number): number => 1_750_000_000 + n * 12;

export interface At {
  block: number;
  logIndex: number;
  tx: string;
  from?: Address;
  address?: Address;
}

function log(at: At, topics: Hex[], data: Hex): RecordedLog {
  return {
    address: at.address ?? REGISTRY,
    topics,
    data,
    logIndex: at.logIndex,
    block: { number: at.block, hash: blockHash(at.block), parentHash: blockHash(at.block - 1), timestamp: timestampOf(at.block) },
    transaction: { hash: txHash(at.tx), index: 0, from: at.from ?? ALICE, to: at.address ?? REGISTRY },
  };
}

export const registered = (patient: Address, encryptionKey: Hex, at: At): RecordedLog =>
  log({ from: patient, ...at }, [PATIENT_REGISTERED, pad(patient)], encodeAbiParameters([{ type: 'bytes32' }], [encryptionKey]));

export const rotated = (patient: Address, previousKey: Hex, newKey: Hex, at: At): RecordedLog =>
  log(
    { from: patient, ...at },
    [KEY_ROTATED, pad(patient)],
    encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }], [previousKey, newKey]),
  );

/** Event entity id as the mappings build it: tx hash ++ log index (uint32, big-endian). */
export const eventId = (tx: string, logIndex: number): Hex =>
  `${txHash(tx)}${logIndex.toString(16).padStart(8, '0')}` as Hex;

export const ANCHOR: Address = '0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0';
export const BATCH_ANCHORED = toEventSelector('BatchAnchored(uint256,bytes32,address,uint32,bytes32)');

export const batchAnchored = (
  batchId: bigint,
  root: Hex,
  submitter: Address,
  leafCount: number,
  manifest: Hex,
  at: At,
): RecordedLog =>
  log(
    { from: submitter, address: ANCHOR, ...at },
    [BATCH_ANCHORED, pad(toHex(batchId)), root, pad(submitter)],
    encodeAbiParameters([{ type: 'uint32' }, { type: 'bytes32' }], [leafCount, manifest]),
  );
