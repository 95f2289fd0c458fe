/**
 * The entity store behind the host's `store.get` / `store.set`, with the checks graph-node's
 * store makes on every write (known type, known fields, value kinds, non-null fields, id, immutability),
 * and the EntityDump the parity test compares with the embedded indexer's.
 */
import { bytesToHex } from 'viem';
import { MappingHostError } from './errors.ts';
import { i32, ptr, u64, type AscMemory } from './memory.ts';
import { StoreKind, type EntityDef, type EntitySchema, type FieldDef } from './schema.ts';

export type StoreValue =
  | { kind: typeof StoreKind.STRING; value: string }
  | { kind: typeof StoreKind.INT; value: number }
  | { kind: typeof StoreKind.BIGDECIMAL; digits: bigint; exp: bigint }
  | { kind: typeof StoreKind.BOOL; value: boolean }
  | { kind: typeof StoreKind.ARRAY; value: StoreValue[] }
  | { kind: typeof StoreKind.NULL }
  | { kind: typeof StoreKind.BYTES; value: Uint8Array }
  | { kind: typeof StoreKind.BIGINT; value: bigint }
  | { kind: typeof StoreKind.INT8; value: bigint }
  | { kind: typeof StoreKind.TIMESTAMP; value: bigint };

/** Field name → value, as the mapping wrote it. */
export type EntityData = Map<string, StoreValue>;

export type DumpValue = string | number | boolean | null;
/** Entity name → rows sorted by id; Bytes as lowercase hex, BigInt/BigDecimal/Int8/Timestamp as decimal strings. */
export type EntityDump = Record<string, Array<Record<string, DumpValue>>>;

const KIND_NAMES: Readonly<Record<number, string>> = {
  0: 'String',
  1: 'Int',
  2: 'BigDecimal',
  3: 'Boolean',
  4: 'Array',
  5: 'null',
  6: 'Bytes',
  7: 'BigInt',
  8: 'Int8',
  9: 'Timestamp',
};

/** BigDecimal digits × 10^exp in plain decimal notation, trailing zeros removed. */
export function bigDecimalToString(digits: bigint, exp: bigint): string {
  if (digits === 0n) return '0';
  const negative = digits < 0n;
  let s = (negative ? -digits : digits).toString();
  if (exp >= 0n) s += '0'.repeat(Number(exp));
  else {
    const shift = Number(-exp);
    s = s.padStart(shift + 1, '0');
    s = `${s.slice(0, s.length - shift)}.${s.slice(s.length - shift)}`.replace(/\.?0+$/, '');
  }
  return negative ? `-${s}` : s;
}

/** The string a value has as an entity id (graph-ts passes Bytes ids as hex). */
function idString(value: StoreValue): string {
  switch (value.kind) {
    case StoreKind.STRING:
      return value.value;
    case StoreKind.BYTES:
      return bytesToHex(value.value);
    case StoreKind.INT8:
      return value.value.toString();
    default:
      throw new MappingHostError('STORE_BAD_ID', `an id cannot be a ${KIND_NAMES[value.kind]}`);
  }
}

function dumpValue(value: StoreValue): DumpValue {
  switch (value.kind) {
    case StoreKind.STRING:
      return value.value;
    case StoreKind.INT:
      return value.value;
    case StoreKind.BOOL:
      return value.value;
    case StoreKind.NULL:
      return null;
    case StoreKind.BYTES:
      return bytesToHex(value.value);
    case StoreKind.BIGINT:
    case StoreKind.INT8:
    case StoreKind.TIMESTAMP:
      return value.value.toString();
    case StoreKind.BIGDECIMAL:
      return bigDecimalToString(value.digits, value.exp);
    case StoreKind.ARRAY:
      throw new MappingHostError('HOST_UNSUPPORTED', 'list fields have no EntityDump form yet (extend dump and the indexer together)');
  }
}

export class EntityStore {
  private readonly tables = new Map<string, Map<string, EntityData>>();
  /** Every accepted write, in order: what the mappings did, for tests that look at more than the end state. */
  readonly writes: Array<{ entity: string; id: string }> = [];

  constructor(readonly schema: EntitySchema) {}

  private def(entity: string): EntityDef {
    const def = this.schema.get(entity);
    if (!def) throw new MappingHostError('STORE_UNKNOWN_ENTITY', `store: unknown entity type ${entity}`);
    return def;
  }

  get(entity: string, id: string): EntityData | undefined {
    this.def(entity);
    const found = this.tables.get(entity)?.get(id);
    return found ? new Map(found) : undefined;
  }

  count(entity: string): number {
    return this.tables.get(entity)?.size ?? 0;
  }

  /** graph-node semantics: the write merges onto the current entity (null removes a field), then is validated. */
  set(entity: string, id: string, data: EntityData): void {
    const def = this.def(entity);
    const table = this.tables.get(entity) ?? new Map<string, EntityData>();
    this.tables.set(entity, table);
    const current = table.get(id);
    if (current && def.immutable) {
      throw new MappingHostError('STORE_IMMUTABLE', `store: ${entity}[${id}] is immutable and already exists`);
    }
    const merged: EntityData = new Map(current ?? []);
    for (const [k, v] of data) {
      if (v.kind === StoreKind.NULL) merged.delete(k);
      else merged.set(k, v);
    }
    this.validate(def, id, merged);
    table.set(id, merged);
    this.writes.push({ entity, id });
  }

  private validate(def: EntityDef, id: string, data: EntityData): void {
    const where = `${def.name}[${id}]`;
    for (const key of data.keys()) {
      if (!def.fields.some((f) => f.name === key)) {
        throw new MappingHostError('STORE_UNKNOWN_FIELD', `store: ${where} sets \`${key}\`, which is not a stored field of ${def.name}`);
      }
    }
    for (const field of def.fields) {
      const value = data.get(field.name);
      if (value === undefined) {
        if (!field.nullable) throw new MappingHostError('STORE_MISSING_FIELD', `store: ${where} has no value for non-nullable \`${field.name}\``);
        continue;
      }
      checkKind(where, field, value);
    }
    const idValue = data.get('id');
    if (!idValue || idString(idValue) !== id) {
      throw new MappingHostError('STORE_ID_MISMATCH', `store: ${where} is saved under an id that differs from its \`id\` field`);
    }
  }

  /** All entities: every schema type, rows sorted by id, every stored field in schema order (null when unset). */
  dump(): EntityDump {
    const out: EntityDump = {};
    for (const def of this.schema.values()) {
      const rows = [...(this.tables.get(def.name)?.entries() ?? [])]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, data]) => {
          const row: Record<string, DumpValue> = {};
          for (const f of def.fields) {
            const v = data.get(f.name);
            row[f.name] = v === undefined ? null : dumpValue(v);
          }
          return row;
        });
      out[def.name] = rows;
    }
    return out;
  }
}

function checkKind(where: string, field: FieldDef, value: StoreValue): void {
  const wrong = (got: StoreValue): MappingHostError =>
    new MappingHostError(
      'STORE_WRONG_TYPE',
      `store: ${where}.${field.name} expects ${field.list ? `[${KIND_NAMES[field.kind]}]` : KIND_NAMES[field.kind]}, got ${KIND_NAMES[got.kind]}`,
    );
  if (field.list) {
    if (value.kind !== StoreKind.ARRAY) throw wrong(value);
    for (const element of value.value) if (element.kind !== field.kind) throw wrong(element);
  } else if (value.kind !== field.kind) {
    throw wrong(value);
  }
}

// ---- entities in WASM memory ---------------------------------------------------------------------

/** Reads a graph-ts store.Value. */
export function readStoreValue(mem: AscMemory, p: number): StoreValue {
  const kind = mem.i32At(p);
  const dataAt = p + 8;
  switch (kind) {
    case StoreKind.STRING:
      return { kind, value: mem.readString(mem.u32At(dataAt)) };
    case StoreKind.INT:
      return { kind, value: mem.i32At(dataAt) };
    case StoreKind.BIGDECIMAL: {
      const bd = mem.u32At(dataAt);
      return { kind, digits: mem.readBigInt(mem.u32At(bd)), exp: mem.readBigInt(mem.u32At(bd + 4)) };
    }
    case StoreKind.BOOL:
      return { kind, value: mem.u64At(dataAt) !== 0n };
    case StoreKind.ARRAY:
      return { kind, value: mem.readPointerArray(mem.u32At(dataAt)).map((e) => readStoreValue(mem, e)) };
    case StoreKind.NULL:
      return { kind };
    case StoreKind.BYTES:
      return { kind, value: mem.readBytes(mem.u32At(dataAt)) };
    case StoreKind.BIGINT:
      return { kind, value: mem.readBigInt(mem.u32At(dataAt)) };
    case StoreKind.INT8:
    case StoreKind.TIMESTAMP:
      return { kind, value: BigInt.asIntN(64, mem.u64At(dataAt)) };
    default:
      throw new MappingHostError('WASM_BAD_VALUE', `unknown store value kind ${kind}`);
  }
}

/** Reads a graph-ts Entity (TypedMap<string, Value>). */
export function readEntity(mem: AscMemory, p: number): EntityData {
  const data: EntityData = new Map();
  for (const entry of mem.readPointerArray(mem.u32At(p))) {
    data.set(mem.readString(mem.u32At(entry)), readStoreValue(mem, mem.u32At(entry + 4)));
  }
  return data;
}

export function writeStoreValue(mem: AscMemory, value: StoreValue): number {
  let payload: bigint;
  switch (value.kind) {
    case StoreKind.STRING:
      payload = BigInt(mem.string(value.value));
      break;
    case StoreKind.INT:
      payload = BigInt.asUintN(64, BigInt(value.value));
      break;
    case StoreKind.BIGDECIMAL:
      payload = BigInt(mem.object('BigDecimal', [ptr(mem.bigInt(value.digits)), ptr(mem.bigInt(value.exp))]));
      break;
    case StoreKind.BOOL:
      payload = value.value ? 1n : 0n;
      break;
    case StoreKind.ARRAY:
      payload = BigInt(mem.array('ArrayStoreValue', value.value.map((e) => writeStoreValue(mem, e))));
      break;
    case StoreKind.NULL:
      payload = 0n;
      break;
    case StoreKind.BYTES:
      payload = BigInt(mem.bytes(value.value));
      break;
    case StoreKind.BIGINT:
      payload = BigInt(mem.bigInt(value.value));
      break;
    case StoreKind.INT8:
    case StoreKind.TIMESTAMP:
      payload = BigInt.asUintN(64, value.value);
      break;
  }
  return mem.object('StoreValue', [i32(value.kind), u64(payload)]);
}

export function writeEntity(mem: AscMemory, data: EntityData): number {
  const entries = [...data].map(([key, value]) =>
    mem.object('TypedMapEntryStringStoreValue', [ptr(mem.string(key)), ptr(writeStoreValue(mem, value))]),
  );
  return mem.object('TypedMapStringStoreValue', [ptr(mem.array('ArrayTypedMapEntryStringStoreValue', entries))]);
}
