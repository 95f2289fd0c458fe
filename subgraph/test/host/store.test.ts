import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUBGRAPH_DIR } from '../../scripts/manifest.ts';
import { parseEntitySchema, StoreKind } from './schema.ts';
import { bigDecimalToString, EntityStore, type EntityData, type StoreValue } from './store.ts';

const schema = parseEntitySchema(readFileSync(join(SUBGRAPH_DIR, 'schema.graphql'), 'utf8'));
const bytes = (hex: string): StoreValue => ({ kind: StoreKind.BYTES, value: Buffer.from(hex, 'hex') });
const big = (v: bigint): StoreValue => ({ kind: StoreKind.BIGINT, value: v });

function patient(overrides: Record<string, StoreValue> = {}): EntityData {
  return new Map<string, StoreValue>(
    Object.entries({
      id: bytes('aa'.repeat(20)),
      controller: bytes('aa'.repeat(20)),
      encryptionKey: bytes('11'.repeat(32)),
      keyRotations: { kind: StoreKind.INT, value: 0 },
      registeredAtBlock: big(1n),
      registeredAtTimestamp: big(100n),
      updatedAtBlock: big(1n),
      updatedAtTimestamp: big(100n),
      ...overrides,
    }),
  );
}
const PATIENT_ID = `0x${'aa'.repeat(20)}`;

describe('schema.graphql as the store sees it', () => {
  it('lists the stored fields in order, without derived ones, and immutability', () => {
    const p = schema.get('Patient')!;
    expect(p.immutable).toBe(false);
    expect(p.fields.map((f) => f.name)).toEqual([
      'id',
      'controller',
      'encryptionKey',
      'keyRotations',
      'registeredAtBlock',
      'registeredAtTimestamp',
      'updatedAtBlock',
      'updatedAtTimestamp',
    ]);
    const e = schema.get('EncryptionKeyRotated')!;
    expect(e.immutable).toBe(true);
    expect(e.fields.find((f) => f.name === 'patient')).toMatchObject({ kind: StoreKind.BYTES, references: 'Patient', nullable: false });
    expect([...schema.keys()]).toEqual([
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
    ]);
    // Nullable fields of the inbox events (unset ones dump as null).
    expect(schema.get('AccessEvent')!.fields.find((f) => f.name === 'requestId')).toMatchObject({ kind: StoreKind.BIGINT, nullable: true });
    // AnchorBatch.versions is derived: not stored.
    expect(schema.get('AnchorBatch')!.fields.map((f) => f.name)).not.toContain('versions');
    expect(schema.get('RecordVersion')!.fields.find((f) => f.name === 'batch')).toMatchObject({ references: 'AnchorBatch', nullable: false });
  });
});

describe('EntityStore', () => {
  it('merges a write onto the current entity (null removes nothing required here)', () => {
    const store = new EntityStore(schema);
    store.set('Patient', PATIENT_ID, patient());
    store.set('Patient', PATIENT_ID, new Map([['id', bytes('aa'.repeat(20))], ['keyRotations', { kind: StoreKind.INT, value: 4 }]]));
    const row = store.dump().Patient![0]!;
    expect(row.keyRotations).toBe(4);
    expect(row.encryptionKey).toBe(`0x${'11'.repeat(32)}`);
  });

  it('rejects what graph-node rejects', () => {
    const store = new EntityStore(schema);
    const code = (f: () => void): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => store.set('Nope', PATIENT_ID, patient()))).toBe('STORE_UNKNOWN_ENTITY');
    expect(code(() => store.set('Patient', PATIENT_ID, patient({ registeredEvents: bytes('00') })))).toBe('STORE_UNKNOWN_FIELD');
    const missing = patient();
    missing.delete('updatedAtBlock');
    expect(code(() => store.set('Patient', PATIENT_ID, missing))).toBe('STORE_MISSING_FIELD');
    expect(code(() => store.set('Patient', PATIENT_ID, patient({ keyRotations: big(1n) })))).toBe('STORE_WRONG_TYPE');
    expect(code(() => store.set('Patient', `0x${'bb'.repeat(20)}`, patient()))).toBe('STORE_ID_MISMATCH');
    expect(store.count('Patient')).toBe(0);
  });

  it('formats BigDecimal as plain decimals', () => {
    expect(bigDecimalToString(0n, 5n)).toBe('0');
    expect(bigDecimalToString(15n, -1n)).toBe('1.5');
    expect(bigDecimalToString(-15n, 2n)).toBe('-1500');
    expect(bigDecimalToString(5n, -3n)).toBe('0.005');
    expect(bigDecimalToString(1200n, -2n)).toBe('12');
  });
});
