/**
 * graph-ts `json` values in a mapping's memory: what the host's `json.fromBytes` and
 * `json.try_fromBytes` return. A JSONValue is { kind: i32, data: u64 } like a store value:
 * strings and numbers point at a string (a number as its decimal text, which graph-node takes
 * from serde_json; here it is JavaScript's String(n), the same for the integers mappings read),
 * arrays at an Array<JSONValue>, objects at a TypedMap<string, JSONValue>.
 */
import { MappingHostError } from './errors.ts';
import { i32, ptr, u64, type AscMemory } from './memory.ts';

/** graph-ts JSONValueKind (common/value.ts). */
export const JsonKind = { NULL: 0, BOOL: 1, NUMBER: 2, STRING: 3, ARRAY: 4, OBJECT: 5 } as const;

export function writeJsonValue(mem: AscMemory, value: unknown): number {
  let kind: number;
  let payload: bigint;
  if (value === null) {
    kind = JsonKind.NULL;
    payload = 0n;
  } else if (typeof value === 'boolean') {
    kind = JsonKind.BOOL;
    payload = value ? 1n : 0n;
  } else if (typeof value === 'number') {
    kind = JsonKind.NUMBER;
    payload = BigInt(mem.string(String(value)));
  } else if (typeof value === 'string') {
    kind = JsonKind.STRING;
    payload = BigInt(mem.string(value));
  } else if (Array.isArray(value)) {
    kind = JsonKind.ARRAY;
    payload = BigInt(mem.array('ArrayJsonValue', value.map((v) => writeJsonValue(mem, v))));
  } else if (typeof value === 'object') {
    kind = JsonKind.OBJECT;
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      mem.object('TypedMapEntryStringJsonValue', [ptr(mem.string(k)), ptr(writeJsonValue(mem, v))]),
    );
    payload = BigInt(mem.object('TypedMapStringJsonValue', [ptr(mem.array('ArrayTypedMapEntryStringJsonValue', entries))]));
  } else {
    throw new MappingHostError('HOST_UNSUPPORTED', `a ${typeof value} is not a JSON value`);
  }
  return mem.object('JsonValue', [i32(kind), u64(payload)]);
}

/** Parses UTF-8 JSON bytes; undefined when they are not JSON (graph-node's try_fromBytes error). */
export function parseJsonBytes(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown };
  } catch {
    return undefined;
  }
}

/** A Result<JSONValue, boolean>: { _value: Wrapped<JSONValue> | null, _error: Wrapped<bool> | null }. */
export function writeJsonResult(mem: AscMemory, bytes: Uint8Array): number {
  const parsed = parseJsonBytes(bytes);
  if (!parsed) return mem.object('ResultJsonValueBool', [ptr(0), ptr(mem.object('WrappedBool', [i32(1)]))]);
  const wrapped = mem.object('WrappedJsonValue', [ptr(writeJsonValue(mem, parsed.value))]);
  return mem.object('ResultJsonValueBool', [ptr(wrapped), ptr(0)]);
}
