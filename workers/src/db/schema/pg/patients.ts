// The PatientRegistry entities of subgraph/schema.graphql, for PostgreSQL.
// Table names are the entity names in snake_case; property names are the GraphQL field names.
// Bytes are lowercase 0x-hex text; BigInt are numeric(78, 0) (any uint256, like graph-node);
// references hold the referenced id.
import { index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';

const bigInt = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' });

export const patient = pgTable('patient', {
  id: text('id').primaryKey(),
  // The default only fills rows written before the column existed; the migration re-indexes them.
  controller: text('controller').notNull().default(''),
  encryptionKey: text('encryption_key').notNull(),
  keyRotations: integer('key_rotations').notNull(),
  registeredAtBlock: bigInt('registered_at_block').notNull(),
  registeredAtTimestamp: bigInt('registered_at_timestamp').notNull(),
  updatedAtBlock: bigInt('updated_at_block').notNull(),
  updatedAtTimestamp: bigInt('updated_at_timestamp').notNull(),
});

export const patientRegistered = pgTable(
  'patient_registered',
  {
    id: text('id').primaryKey(),
    patient: text('patient').notNull(),
    encryptionKey: text('encryption_key').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
    logIndex: bigInt('log_index').notNull(),
  },
  (t) => [index('patient_registered_patient_idx').on(t.patient), index('patient_registered_block_idx').on(t.blockNumber)],
);

export const encryptionKeyRotated = pgTable(
  'encryption_key_rotated',
  {
    id: text('id').primaryKey(),
    patient: text('patient').notNull(),
    previousKey: text('previous_key').notNull(),
    newKey: text('new_key').notNull(),
    blockNumber: bigInt('block_number').notNull(),
    blockTimestamp: bigInt('block_timestamp').notNull(),
    transactionHash: text('transaction_hash').notNull(),
    logIndex: bigInt('log_index').notNull(),
  },
  (t) => [
    index('encryption_key_rotated_patient_idx').on(t.patient),
    index('encryption_key_rotated_block_idx').on(t.blockNumber),
  ],
);
