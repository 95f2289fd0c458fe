// The entity model, read from subgraph/schema.graphql (the single source of the entities' names,
// fields and types), and checked against the drizzle tables so the two cannot drift apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@consentry/sdk/config';
import { getTableColumns, type Table } from 'drizzle-orm';
import {
  Kind,
  parse,
  type ConstDirectiveNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type TypeNode,
} from 'graphql';
import * as tables from '../db/schema/sqlite/index.ts';
import { ALL_ENTITY_NAMES, IMMUTABLE_ENTITIES, type EntityName } from '../db/store.ts';
import { IndexerError } from './errors.ts';

export const SCHEMA_FILE = join(REPO_ROOT, 'subgraph', 'schema.graphql');
/** Indexer-only entities (off-chain sources), served next to the subgraph's. */
export const OFFCHAIN_SCHEMA_FILE = join(REPO_ROOT, 'workers', 'src', 'indexer', 'offchain.graphql');

export const SCALARS = ['ID', 'Bytes', 'BigInt', 'Int', 'String', 'Boolean'] as const;
export type ScalarName = (typeof SCALARS)[number];

export type FieldModel = { name: string; description?: string } & (
  | { kind: 'scalar'; scalar: ScalarName; nonNull: boolean; /** A stored list (indexer-only entities). */ list?: boolean }
  | { kind: 'reference'; entity: EntityName; nonNull: boolean }
  | { kind: 'derived'; entity: EntityName; derivedFrom: string }
);

export type EntityModel = {
  name: EntityName;
  immutable: boolean;
  description?: string;
  /** The scalar type of `id` (ID, Bytes or String). */
  idScalar: ScalarName;
  fields: FieldModel[];
};

const entityTables: Record<EntityName, Table> = {
  Patient: tables.patient,
  PatientRegistered: tables.patientRegistered,
  EncryptionKeyRotated: tables.encryptionKeyRotated,
  AnchorBatch: tables.anchorBatch,
  RecordVersion: tables.recordVersion,
  Organization: tables.organization,
  AccessRequest: tables.accessRequest,
  Grant: tables.grant,
  AccessEvent: tables.accessEvent,
  BreakGlass: tables.breakGlass,
  PatientPolicy: tables.patientPolicy,
  CommitteeMember: tables.committeeMember,
  CommitteeEpoch: tables.committeeEpoch,
  LogRoot: tables.logRoot,
  Study: tables.study,
  IrbDecision: tables.irbDecision,
  Enrollment: tables.enrollment,
  ConsentRevocation: tables.consentRevocation,
  Purchase: tables.purchase,
  PurchaseConfirmation: tables.purchaseConfirmation,
  Refund: tables.refund,
  Claim: tables.claim,
  Issuer: tables.issuer,
  Release: tables.release,
};

function directive(node: { directives?: readonly ConstDirectiveNode[] }, name: string) {
  return node.directives?.find((d) => d.name.value === name);
}

function directiveArg(d: ConstDirectiveNode | undefined, name: string): string | boolean | undefined {
  const arg = d?.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  if (arg.value.kind === Kind.BOOLEAN) return arg.value.value;
  if (arg.value.kind === Kind.STRING) return arg.value.value;
  return undefined;
}

function unwrap(type: TypeNode): { named: string; nonNull: boolean; list: boolean } {
  let nonNull = false;
  let list = false;
  let t = type;
  if (t.kind === Kind.NON_NULL_TYPE) {
    nonNull = true;
    t = t.type;
  }
  if (t.kind === Kind.LIST_TYPE) {
    list = true;
    t = t.type.kind === Kind.NON_NULL_TYPE ? t.type.type : t.type;
  }
  if (t.kind !== Kind.NAMED_TYPE) throw new IndexerError('SCHEMA_UNSUPPORTED', 'Nested list types are not supported');
  return { named: t.name.value, nonNull, list };
}

const isEntityName = (name: string): name is EntityName => (ALL_ENTITY_NAMES as readonly string[]).includes(name);

function fieldModel(entity: string, f: FieldDefinitionNode): FieldModel {
  const where = `${entity}.${f.name.value}`;
  const { named, nonNull, list } = unwrap(f.type);
  const base = { name: f.name.value, ...(f.description ? { description: f.description.value } : {}) };
  const derived = directive(f, 'derivedFrom');
  if (derived) {
    const from = directiveArg(derived, 'field');
    if (typeof from !== 'string' || !isEntityName(named) || !list) {
      throw new IndexerError('SCHEMA_UNSUPPORTED', `${where}: @derivedFrom needs a list of a known entity and a field`);
    }
    return { ...base, kind: 'derived', entity: named, derivedFrom: from };
  }
  if (list && isEntityName(named)) throw new IndexerError('SCHEMA_UNSUPPORTED', `${where}: stored lists of entities are not supported`);
  if (isEntityName(named)) return { ...base, kind: 'reference', entity: named, nonNull };
  if (!(SCALARS as readonly string[]).includes(named)) {
    throw new IndexerError('SCHEMA_UNSUPPORTED', `${where}: type ${named} is not supported by the embedded indexer`);
  }
  return { ...base, kind: 'scalar', scalar: named as ScalarName, nonNull, ...(list ? { list } : {}) };
}

/** Parses the subgraph schema into entity models (only `@entity` types). */
export function parseEntityModels(sdl: string): EntityModel[] {
  const doc = parse(sdl);
  const models: EntityModel[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const node = def as ObjectTypeDefinitionNode;
    const entity = directive(node, 'entity');
    if (!entity) continue;
    const name = node.name.value;
    if (!isEntityName(name)) {
      throw new IndexerError('SCHEMA_MISMATCH', `Entity ${name} of schema.graphql has no table in the indexer (workers/src/db/schema)`);
    }
    const fields = (node.fields ?? []).map((f) => fieldModel(name, f));
    const id = fields.find((f) => f.name === 'id');
    if (!id || id.kind !== 'scalar' || !['ID', 'Bytes', 'String'].includes(id.scalar)) {
      throw new IndexerError('SCHEMA_UNSUPPORTED', `${name}.id must be ID, Bytes or String`);
    }
    models.push({
      name,
      immutable: directiveArg(entity, 'immutable') === true,
      ...(node.description ? { description: node.description.value } : {}),
      idScalar: id.scalar,
      fields,
    });
  }
  return models;
}

/**
 * Fails (naming the difference) unless the schema's entities and the drizzle tables agree:
 * same entities, same stored fields, same mutability, and event entities carry `blockNumber`.
 */
export function checkModelsAgainstTables(models: readonly EntityModel[]): void {
  const problems: string[] = [];
  for (const name of ALL_ENTITY_NAMES) {
    if (!models.some((m) => m.name === name)) problems.push(`table for ${name} has no entity in schema.graphql`);
  }
  for (const m of models) {
    const columns = Object.keys(getTableColumns(entityTables[m.name]));
    const stored = m.fields.filter((f) => f.kind !== 'derived').map((f) => f.name);
    for (const f of stored) if (!columns.includes(f)) problems.push(`${m.name}.${f} has no column`);
    for (const c of columns) if (!stored.includes(c)) problems.push(`column ${m.name}.${c} is not in schema.graphql`);
    const immutable = (IMMUTABLE_ENTITIES as readonly string[]).includes(m.name);
    if (immutable !== m.immutable) problems.push(`${m.name}: mutability differs from workers/src/db/store.ts`);
    if (m.immutable && !stored.includes('blockNumber')) problems.push(`${m.name}: immutable entities need blockNumber`);
    for (const f of m.fields) {
      if (f.kind === 'derived') {
        const target = models.find((t) => t.name === f.entity);
        const back = target?.fields.find((t) => t.name === f.derivedFrom);
        if (!back || back.kind !== 'reference' || back.entity !== m.name) {
          problems.push(`${m.name}.${f.name}: @derivedFrom(field: "${f.derivedFrom}") is not a reference to ${m.name}`);
        }
      }
    }
  }
  if (problems.length) {
    throw new IndexerError('SCHEMA_MISMATCH', `schema.graphql and the indexer tables disagree:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Reads, parses and checks subgraph/schema.graphql with the indexer-only entities of
 * offchain.graphql; `sdl` is the two together.
 */
export function loadEntityModels(file: string = SCHEMA_FILE, offchainFile: string = OFFCHAIN_SCHEMA_FILE): { sdl: string; models: EntityModel[] } {
  let sdl: string;
  try {
    sdl = `${readFileSync(file, 'utf8')}\n${readFileSync(offchainFile, 'utf8')}`;
  } catch (cause) {
    throw new IndexerError('SCHEMA_MISSING', `Cannot read the entity schemas ${file} and ${offchainFile}`, { cause });
  }
  const models = parseEntityModels(sdl);
  checkModelsAgainstTables(models);
  return { sdl, models };
}
