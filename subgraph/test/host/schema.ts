/**
 * The entity types of `schema.graphql`, as graph-node's store sees them: which fields are
 * stored (derived fields are not), their value kinds, nullability, and immutability.
 */
import { readFileSync } from 'node:fs';
import { Kind, parse, type ConstDirectiveNode, type TypeNode } from 'graphql';
import { MappingHostError } from './errors.ts';

/** graph-ts store ValueKind (common/value.ts). */
export const StoreKind = {
  STRING: 0,
  INT: 1,
  BIGDECIMAL: 2,
  BOOL: 3,
  ARRAY: 4,
  NULL: 5,
  BYTES: 6,
  BIGINT: 7,
  INT8: 8,
  TIMESTAMP: 9,
} as const;
export type StoreKind = (typeof StoreKind)[keyof typeof StoreKind];

const SCALAR_KINDS: Readonly<Record<string, StoreKind>> = {
  ID: StoreKind.STRING,
  String: StoreKind.STRING,
  Bytes: StoreKind.BYTES,
  Int: StoreKind.INT,
  Int8: StoreKind.INT8,
  BigInt: StoreKind.BIGINT,
  BigDecimal: StoreKind.BIGDECIMAL,
  Boolean: StoreKind.BOOL,
  Timestamp: StoreKind.TIMESTAMP,
};

export interface FieldDef {
  name: string;
  /** Kind of the stored value (of each element, for lists). References store the target's id. */
  kind: StoreKind;
  list: boolean;
  nullable: boolean;
  /** The referenced entity type, for references. */
  references?: string;
}

export interface EntityDef {
  name: string;
  immutable: boolean;
  /** Stored fields in schema order (derived fields left out). */
  fields: FieldDef[];
}

export type EntitySchema = ReadonlyMap<string, EntityDef>;

function directive(directives: readonly ConstDirectiveNode[] | undefined, name: string): ConstDirectiveNode | undefined {
  return directives?.find((d) => d.name.value === name);
}

function unwrap(type: TypeNode): { named: string; list: boolean; nullable: boolean } {
  let t = type;
  let nullable = true;
  if (t.kind === Kind.NON_NULL_TYPE) {
    nullable = false;
    t = t.type;
  }
  let list = false;
  if (t.kind === Kind.LIST_TYPE) {
    list = true;
    t = t.type;
    if (t.kind === Kind.NON_NULL_TYPE) t = t.type;
  }
  if (t.kind !== Kind.NAMED_TYPE) throw new MappingHostError('HOST_SCHEMA', 'nested lists are not supported');
  return { named: t.name.value, list, nullable };
}

/** Parses `schema.graphql` (the text) into its entity definitions. */
export function parseEntitySchema(source: string): EntitySchema {
  const doc = parse(source);
  const enums = new Set<string>();
  const idKinds = new Map<string, StoreKind>();
  const objects = doc.definitions.filter((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION);
  for (const d of doc.definitions) if (d.kind === Kind.ENUM_TYPE_DEFINITION) enums.add(d.name.value);
  for (const o of objects) {
    const id = o.fields?.find((f) => f.name.value === 'id');
    if (!id || !directive(o.directives, 'entity')) continue;
    const kind = SCALAR_KINDS[unwrap(id.type).named];
    if (kind === undefined) throw new MappingHostError('HOST_SCHEMA', `${o.name.value}.id has an unsupported type`);
    idKinds.set(o.name.value, kind);
  }

  const entities = new Map<string, EntityDef>();
  for (const o of objects) {
    const entity = directive(o.directives, 'entity');
    if (!entity) continue;
    const immutableArg = entity.arguments?.find((a) => a.name.value === 'immutable');
    const immutable = immutableArg?.value.kind === Kind.BOOLEAN && immutableArg.value.value;
    const fields: FieldDef[] = [];
    for (const f of o.fields ?? []) {
      if (directive(f.directives, 'derivedFrom')) continue;
      const { named, list, nullable } = unwrap(f.type);
      const scalar = SCALAR_KINDS[named];
      const target = idKinds.get(named);
      let def: FieldDef;
      if (scalar !== undefined) def = { name: f.name.value, kind: scalar, list, nullable };
      else if (target !== undefined) def = { name: f.name.value, kind: target, list, nullable, references: named };
      else if (enums.has(named)) def = { name: f.name.value, kind: StoreKind.STRING, list, nullable };
      else throw new MappingHostError('HOST_SCHEMA', `${o.name.value}.${f.name.value} has an unknown type ${named}`);
      fields.push(def);
    }
    entities.set(o.name.value, { name: o.name.value, immutable, fields });
  }
  return entities;
}

export function loadEntitySchema(file: string): EntitySchema {
  return parseEntitySchema(readFileSync(file, 'utf8'));
}
