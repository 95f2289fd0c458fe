// PatientRegistry handlers. They mirror the subgraph's AssemblyScript mappings
// (subgraph/src/patient-registry.ts) field for field; the parity tests hold both to the same
// entities. Guardian changes and recoveries are AccessEvents of the account (the patient's inbox,
// which the notifier delivers); a completed recovery moves Patient.controller.
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import type { Address, Hex } from 'viem';
import type { MutableEntityName } from '../../db/store.ts';
import { eventId } from '../ids.ts';
import type { PageContext } from '../page.ts';
import { accessEvent } from './access-grants.ts';
import { ZERO_ADDRESS } from './organization-registry.ts';

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

type GuardianSet = { account: Address; guardians: readonly Address[]; threshold: number; recoveryDelay: number };

export type PatientRegistryEvent =
  | (EventMeta & { eventName: 'PatientRegistered'; args: { patient: Address; encryptionKey: Hex } })
  | (EventMeta & {
      eventName: 'EncryptionKeyRotated';
      args: { patient: Address; previousKey: Hex; newKey: Hex };
    })
  | (EventMeta & { eventName: 'GuardiansChanged'; args: GuardianSet })
  | (EventMeta & { eventName: 'GuardianChangeProposed'; args: GuardianSet & { effectiveAt: bigint } })
  | (EventMeta & { eventName: 'GuardianChangeCancelled'; args: { account: Address } })
  | (EventMeta & {
      eventName: 'RecoveryStarted';
      args: { account: Address; nonce: bigint; newController: Address; recoveryKey: Hex; guardian: Address };
    })
  | (EventMeta & { eventName: 'RecoveryApproved'; args: { account: Address; nonce: bigint; guardian: Address; approvalCount: number } })
  | (EventMeta & { eventName: 'RecoveryReady'; args: { account: Address; nonce: bigint; readyAt: bigint } })
  | (EventMeta & { eventName: 'RecoveryCancelled'; args: { account: Address; nonce: bigint; by: Address } })
  | (EventMeta & {
      eventName: 'AccountRecovered';
      args: { account: Address; nonce: bigint; previousController: Address; newController: Address };
    });

const hex = (value: string): string => value.toLowerCase();
const ZERO = ZERO_ADDRESS as Address;

/** The mutable entities a handler reads: loaded for the whole page before it runs. */
export function entitiesRead(event: PatientRegistryEvent): Array<[MutableEntityName, string]> {
  return [['Patient', hex('patient' in event.args ? event.args.patient : event.args.account)]];
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
    controller: patient,
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

type RegistryEventOf<N extends PatientRegistryEvent['eventName']> = Extract<PatientRegistryEvent, { eventName: N }>;

/** Guardian changes and recoveries: inbox events of the account (subgraph/src/patient-registry.ts). */
export function handleRecoveryEvent(
  ctx: PageContext,
  event: RegistryEventOf<
    | 'GuardiansChanged'
    | 'GuardianChangeProposed'
    | 'GuardianChangeCancelled'
    | 'RecoveryStarted'
    | 'RecoveryApproved'
    | 'RecoveryReady'
    | 'RecoveryCancelled'
    | 'AccountRecovered'
  >,
): void {
  switch (event.eventName) {
    case 'GuardiansChanged': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'GUARDIANS_CHANGED', a.account, ZERO, ZERO, { duration: BigInt(a.recoveryDelay) }));
      return;
    }
    case 'GuardianChangeProposed': {
      const a = event.args;
      ctx.insert(
        'AccessEvent',
        accessEvent(event, 'GUARDIAN_CHANGE_PROPOSED', a.account, ZERO, ZERO, { duration: BigInt(a.recoveryDelay), expiresAt: a.effectiveAt }),
      );
      return;
    }
    case 'GuardianChangeCancelled':
      ctx.insert('AccessEvent', accessEvent(event, 'GUARDIAN_CHANGE_CANCELLED', event.args.account, ZERO, ZERO, {}));
      return;
    case 'RecoveryStarted': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'RECOVERY_STARTED', a.account, a.newController, a.guardian, { requestId: a.nonce }));
      return;
    }
    case 'RecoveryApproved': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'RECOVERY_APPROVED', a.account, a.guardian, a.guardian, { requestId: a.nonce }));
      return;
    }
    case 'RecoveryReady': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'RECOVERY_READY', a.account, ZERO, ZERO, { requestId: a.nonce, expiresAt: a.readyAt }));
      return;
    }
    case 'RecoveryCancelled': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'RECOVERY_CANCELLED', a.account, a.by, a.by, { requestId: a.nonce }));
      return;
    }
    case 'AccountRecovered': {
      const a = event.args;
      ctx.insert('AccessEvent', accessEvent(event, 'ACCOUNT_RECOVERED', a.account, a.newController, a.previousController, { requestId: a.nonce }));
      const current = ctx.get('Patient', hex(a.account));
      // Like the mapping, a patient registered before the start block is left alone.
      if (!current) return;
      ctx.save('Patient', {
        ...current,
        controller: hex(a.newController),
        updatedAtBlock: BigInt(event.blockNumber),
        updatedAtTimestamp: event.blockTimestamp,
      });
      return;
    }
  }
}

export function handlePatientRegistryEvent(ctx: PageContext, event: PatientRegistryEvent): void {
  switch (event.eventName) {
    case 'PatientRegistered':
      return handlePatientRegistered(ctx, event);
    case 'EncryptionKeyRotated':
      return handleEncryptionKeyRotated(ctx, event);
    default:
      return handleRecoveryEvent(ctx, event);
  }
}
