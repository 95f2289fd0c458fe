// Mappings of PatientRegistry events (contracts/src/interfaces/IPatientRegistry.sol).
// One immutable entity per registration and key rotation, and the mutable Patient they describe.
// Guardian changes and recoveries go to the patient's inbox as AccessEvents (kinds RECOVERY_*,
// ACCOUNT_RECOVERED, GUARDIAN*), so the notifier tells the patient when a recovery starts; a
// completed recovery moves Patient.controller. The embedded indexer mirrors them
// (workers/src/indexer/mappings/patient-registry.ts).
import { Address, BigInt, ethereum, log } from '@graphprotocol/graph-ts';
import {
  AccountRecovered as AccountRecoveredEvent,
  EncryptionKeyRotated as EncryptionKeyRotatedEvent,
  GuardianChangeCancelled as GuardianChangeCancelledEvent,
  GuardianChangeProposed as GuardianChangeProposedEvent,
  GuardiansChanged as GuardiansChangedEvent,
  PatientRegistered as PatientRegisteredEvent,
  RecoveryApproved as RecoveryApprovedEvent,
  RecoveryCancelled as RecoveryCancelledEvent,
  RecoveryReady as RecoveryReadyEvent,
  RecoveryStarted as RecoveryStartedEvent,
} from '../generated/PatientRegistry/PatientRegistry';
import { AccessEvent, EncryptionKeyRotated, Patient, PatientRegistered } from '../generated/schema';
import { accessEvent } from './access-grants';
import { eventId, patientId } from './ids';

export function handlePatientRegistered(event: PatientRegisteredEvent): void {
  const record = new PatientRegistered(eventId(event));
  record.patient = patientId(event.params.patient);
  record.encryptionKey = event.params.encryptionKey;
  record.blockNumber = event.block.number;
  record.blockTimestamp = event.block.timestamp;
  record.transactionHash = event.transaction.hash;
  record.logIndex = event.logIndex;
  record.save();

  // The contract allows one registration per address, so a Patient never exists here.
  const patient = new Patient(patientId(event.params.patient));
  patient.controller = event.params.patient;
  patient.encryptionKey = event.params.encryptionKey;
  patient.keyRotations = 0;
  patient.registeredAtBlock = event.block.number;
  patient.registeredAtTimestamp = event.block.timestamp;
  patient.updatedAtBlock = event.block.number;
  patient.updatedAtTimestamp = event.block.timestamp;
  patient.save();
}

/** The Patient, or null (logged) for one registered before the start block. */
function loadPatient(account: Address, what: string): Patient | null {
  const patient = Patient.load(patientId(account));
  if (patient == null) log.warning('{} for a patient registered before the start block: {}', [what, account.toHexString()]);
  return patient;
}

export function handleEncryptionKeyRotated(event: EncryptionKeyRotatedEvent): void {
  const record = new EncryptionKeyRotated(eventId(event));
  record.patient = patientId(event.params.patient);
  record.previousKey = event.params.previousKey;
  record.newKey = event.params.newKey;
  record.blockNumber = event.block.number;
  record.blockTimestamp = event.block.timestamp;
  record.transactionHash = event.transaction.hash;
  record.logIndex = event.logIndex;
  record.save();

  // Only registered patients can rotate (the contract reverts otherwise), so this is a
  // data source started after the registration: keep the event, say so, skip the Patient.
  const patient = loadPatient(event.params.patient, 'EncryptionKeyRotated');
  if (patient == null) return;
  patient.encryptionKey = event.params.newKey;
  patient.keyRotations = patient.keyRotations + 1;
  patient.updatedAtBlock = event.block.number;
  patient.updatedAtTimestamp = event.block.timestamp;
  patient.save();
}

/** A recovery event of `account`'s inbox, keyed by the recovery's nonce. */
function recoveryEvent(event: ethereum.Event, kind: string, account: Address, nonce: BigInt, organization: Address, actor: Address): AccessEvent {
  const record = accessEvent(event, kind, account, organization, actor);
  record.requestId = nonce;
  return record;
}

export function handleRecoveryStarted(event: RecoveryStartedEvent): void {
  const p = event.params;
  recoveryEvent(event, 'RECOVERY_STARTED', p.account, p.nonce, p.newController, p.guardian).save();
}

export function handleRecoveryApproved(event: RecoveryApprovedEvent): void {
  const p = event.params;
  recoveryEvent(event, 'RECOVERY_APPROVED', p.account, p.nonce, p.guardian, p.guardian).save();
}

export function handleRecoveryReady(event: RecoveryReadyEvent): void {
  const p = event.params;
  const record = recoveryEvent(event, 'RECOVERY_READY', p.account, p.nonce, Address.zero(), Address.zero());
  record.expiresAt = p.readyAt;
  record.save();
}

export function handleRecoveryCancelled(event: RecoveryCancelledEvent): void {
  const p = event.params;
  recoveryEvent(event, 'RECOVERY_CANCELLED', p.account, p.nonce, p.by, p.by).save();
}

export function handleAccountRecovered(event: AccountRecoveredEvent): void {
  const p = event.params;
  recoveryEvent(event, 'ACCOUNT_RECOVERED', p.account, p.nonce, p.newController, p.previousController).save();

  const patient = loadPatient(p.account, 'AccountRecovered');
  if (patient == null) return;
  patient.controller = p.newController;
  patient.updatedAtBlock = event.block.number;
  patient.updatedAtTimestamp = event.block.timestamp;
  patient.save();
}

export function handleGuardiansChanged(event: GuardiansChangedEvent): void {
  const record = accessEvent(event, 'GUARDIANS_CHANGED', event.params.account, Address.zero(), Address.zero());
  record.duration = event.params.recoveryDelay;
  record.save();
}

export function handleGuardianChangeProposed(event: GuardianChangeProposedEvent): void {
  const record = accessEvent(event, 'GUARDIAN_CHANGE_PROPOSED', event.params.account, Address.zero(), Address.zero());
  record.duration = event.params.recoveryDelay;
  record.expiresAt = event.params.effectiveAt;
  record.save();
}

export function handleGuardianChangeCancelled(event: GuardianChangeCancelledEvent): void {
  accessEvent(event, 'GUARDIAN_CHANGE_CANCELLED', event.params.account, Address.zero(), Address.zero()).save();
}
