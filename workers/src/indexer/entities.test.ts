import { describe, expect, it } from 'vitest';
import { checkModelsAgainstTables, loadEntityModels, parseEntityModels } from './entities.ts';

describe('entity model', () => {
  it('reads subgraph/schema.graphql and the indexer-only offchain.graphql, and matches the drizzle tables', () => {
    const { models } = loadEntityModels();
    expect(models.map((m) => m.name)).toEqual([
      'Patient',
      'PatientRegistered',
      'EncryptionKeyRotated',
      'AnchorBatch',
      'RecordVersion',
      'Organization',
      'AccessRequest',
      'Grant',
      'AccessEvent',
      'BreakGlass',
      'PatientPolicy',
      'CommitteeMember',
      'CommitteeEpoch',
      'LogRoot',
      'Study',
      'IrbDecision',
      'Enrollment',
      'ConsentRevocation',
      'Purchase',
      'PurchaseConfirmation',
      'Refund',
      'Claim',
      'Issuer',
      'Release',
    ]);
    expect(models.filter((m) => !m.immutable).map((m) => m.name)).toEqual([
      'Patient',
      'Organization',
      'AccessRequest',
      'Grant',
      'BreakGlass',
      'PatientPolicy',
      'CommitteeMember',
      'Study',
      'Purchase',
      'Issuer',
      'Release',
    ]);
    expect(models.find((m) => m.name === 'AccessEvent')!.fields.find((f) => f.name === 'requestId')).toMatchObject({
      kind: 'scalar',
      scalar: 'BigInt',
      nonNull: false,
    });
    expect(models.find((m) => m.name === 'AnchorBatch')!.fields.find((f) => f.name === 'versions')).toMatchObject({
      kind: 'derived',
      entity: 'RecordVersion',
      derivedFrom: 'batch',
    });
    expect(models.find((m) => m.name === 'RecordVersion')).toMatchObject({ immutable: true, idScalar: 'Bytes' });
    const patient = models.find((m) => m.name === 'Patient')!;
    expect(patient.immutable).toBe(false);
    expect(patient.idScalar).toBe('Bytes');
    expect(patient.fields.find((f) => f.name === 'registeredEvents')).toMatchObject({
      kind: 'derived',
      entity: 'PatientRegistered',
      derivedFrom: 'patient',
    });
    expect(models.find((m) => m.name === 'PatientRegistered')!.fields.find((f) => f.name === 'patient')).toMatchObject({
      kind: 'reference',
      entity: 'Patient',
    });
  });

  it('names the difference when the schema and the tables drift apart', () => {
    const { sdl } = loadEntityModels();
    const extraField = sdl.replace('keyRotations: Int!', 'keyRotations: Int!\n  nickname: String');
    expect(() => checkModelsAgainstTables(parseEntityModels(extraField))).toThrow(/Patient\.nickname has no column/);
    const unknownEntity = `${sdl}\ntype StudyCreated @entity(immutable: true) { id: Bytes! }`;
    expect(() => parseEntityModels(unknownEntity)).toThrow(/StudyCreated .* no table/);
    const mutable = sdl.replace('type PatientRegistered @entity(immutable: true)', 'type PatientRegistered @entity');
    expect(() => checkModelsAgainstTables(parseEntityModels(mutable))).toThrow(/mutability differs/);
  });
});
