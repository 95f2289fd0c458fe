// PatientRegistry handlers. They mirror the subgraph's AssemblyScript mappings
// (subgraph/src/*.ts) field for field; the parity test holds both to the same entities.
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import type { Address, Hex } from 'viem';
import type { MutableEntityName } from '../../db/store.ts';
import { eventId } from '../ids.ts';
import type { PageContext } from '../page.ts';

/** The ABI items of the events the indexer follows. */
export const patientRegistryEvents = patientRegistryAbi.filter(
  (item): item is Extract<(typeof patientRegistryAbi)[number], { type: 'event' }> => item.type === 'event',
);

export type EventMeta = {
  blockNumber: number;
  blockTimestamp: bigint;
  transactionHash: Hex;
  logIndex: number;
};

export type PatientRegistryEvent =
  | (EventMeta & { eventName: 'PatientRegistered'; args: { patient: Address; encryptionKey: Hex } })
  | (EventMeta & {
      eventName: 'EncryptionKeyRotated';
      args: { patient: Address; previousKey: Hex; newKey: Hex };
    });

const hex = (value: string): string => value.toLowerCase();

/** The mutable entities a handler reads: loaded for the whole page before it runs. */
export function entitiesRead(event: PatientRegistryEvent): Array<[MutableEntityName, string]> {
  return [['Patient', hex(event.args.patient)]];
}

function eventFields(event: EventMeta) {
  return {
    id: eventId(event.transactionHash, event.logIndex),
    blockNumber: BigInt(event.blockNumber),
    blockTimestamp: event.blockTimestamp,
    transactionHash: hex(event.transactionHash),
    logIndex: BigInt(event.logIndex),
  };
}

export function handlePatientRegistered(
  ctx: PageContext,
  event: Extract<PatientRegistryEvent, { eventName: 'PatientRegistered' }>,
): void {
  const patient = hex(event.args.patient);
  const encryptionKey = hex(event.args.encryptionKey);
  ctx.insert('PatientRegistered', { ...eventFields(event), patient, encryptionKey });
  const block = BigInt(event.blockNumber);
  ctx.save('Patient', {
    id: patient,
    encryptionKey,
    keyRotations: 0,
    registeredAtBlock: block,
    registeredAtTimestamp: event.blockTimestamp,
    updatedAtBlock: block,
    updatedAtTimestamp: event.blockTimestamp,
  });
}

export function handleEncryptionKeyRotated(
  ctx: PageContext,
  event: Extract<PatientRegistryEvent, { eventName: 'EncryptionKeyRotated' }>,
): void {
  const patient = hex(event.args.patient);
  const newKey = hex(event.args.newKey);
  ctx.insert('EncryptionKeyRotated', {
    ...eventFields(event),
    patient,
    previousKey: hex(event.args.previousKey),
    newKey,
  });
  const current = ctx.get('Patient', patient);
  // The contract only lets registered patients rotate, so `current` exists; like the mapping,
  // an unknown patient leaves the Patient entities unchanged.
  if (!current) return;
  ctx.save('Patient', {
    ...current,
    encryptionKey: newKey,
    keyRotations: current.keyRotations + 1,
    updatedAtBlock: BigInt(event.blockNumber),
    updatedAtTimestamp: event.blockTimestamp,
  });
}

export function handlePatientRegistryEvent(ctx: PageContext, event: PatientRegistryEvent): void {
  switch (event.eventName) {
    case 'PatientRegistered':
      return handlePatientRegistered(ctx, event);
    case 'EncryptionKeyRotated':
      return handleEncryptionKeyRotated(ctx, event);
  }
}
