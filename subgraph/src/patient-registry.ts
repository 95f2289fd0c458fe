// Mappings of PatientRegistry events (contracts/src/interfaces/IPatientRegistry.sol).
// One immutable entity per event, and the mutable Patient they describe.
import { log } from '@graphprotocol/graph-ts';
import {
  EncryptionKeyRotated as EncryptionKeyRotatedEvent,
  PatientRegistered as PatientRegisteredEvent,
} from '../generated/PatientRegistry/PatientRegistry';
import { EncryptionKeyRotated, Patient, PatientRegistered } from '../generated/schema';
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
  patient.encryptionKey = event.params.encryptionKey;
  patient.keyRotations = 0;
  patient.registeredAtBlock = event.block.number;
  patient.registeredAtTimestamp = event.block.timestamp;
  patient.updatedAtBlock = event.block.number;
  patient.updatedAtTimestamp = event.block.timestamp;
  patient.save();
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
  const patient = Patient.load(patientId(event.params.patient));
  if (patient == null) {
    log.warning('EncryptionKeyRotated for a patient registered before the start block: {}', [
      event.params.patient.toHexString(),
    ]);
    return;
  }
  patient.encryptionKey = event.params.newKey;
  patient.keyRotations = patient.keyRotations + 1;
  patient.updatedAtBlock = event.block.number;
  patient.updatedAtTimestamp = event.block.timestamp;
  patient.save();
}
