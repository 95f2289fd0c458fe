/**
 * AssemblyScript objects in a mapping's linear memory, laid out as graph-node does for
 * mapping apiVersion >= 0.0.5 (AssemblyScript 0.19, `--runtime stub`, as graph-cli 0.98 compiles).
 *
 * Every managed object is preceded by a 20-byte header; a pointer points at the payload:
 *
 *   ptr-20 mmInfo (allocator)   ptr-16 gcInfo   ptr-12 gcInfo2   ptr-8 rtId (class id)   ptr-4 rtSize (payload bytes)
 *
 * The host allocates as graph-node does: it calls the module's exported `allocate(size)`
 * (graph-ts's wrapper of `__alloc`, which owns mmInfo), writes the 16-byte object header itself
 * and returns allocation + 16. Class ids come from the module's `id_of_type(TypeId)` export,
 * so they always match the compiled module.
 *
 * Payloads:
 *   string        UTF-16LE code units; length = rtSize / 2
 *   ArrayBuffer   raw bytes; length = rtSize
 *   Uint8Array    { buffer: ArrayBuffer*, dataStart: usize, byteLength: i32 }   (Bytes, Address, BigInt)
 *   Array<T>      { buffer: ArrayBuffer*, dataStart: usize, byteLength: i32, length: i32 }
 *   class         fields in declaration order, each aligned to its size (pointers and i32 take 4, u64 takes 8)
 *   BigInt        a Uint8Array of the signed little-endian two's complement bytes
 */
import { MappingHostError } from './errors.ts';

/** graph-ts TypeId names the host allocates (values are read from the module's exported globals). */
export type TypeIdName =
  | 'String'
  | 'ArrayBuffer'
  | 'Uint8Array'
  | 'BigDecimal'
  | 'ArrayEventParam'
  | 'ArrayEthereumValue'
  | 'ArrayStoreValue'
  | 'ArrayTypedMapEntryStringStoreValue'
  | 'EventParam'
  | 'EthereumTransaction'
  | 'EthereumBlock'
  | 'EthereumValue'
  | 'EthereumEvent'
  | 'StoreValue'
  | 'TypedMapEntryStringStoreValue'
  | 'TypedMapStringStoreValue'
  | 'JsonValue'
  | 'ArrayJsonValue'
  | 'TypedMapEntryStringJsonValue'
  | 'ArrayTypedMapEntryStringJsonValue'
  | 'TypedMapStringJsonValue'
  | 'ResultJsonValueBool'
  | 'WrappedJsonValue'
  | 'WrappedBool';

/** A class field as the host writes it: a pointer/i32 (4 bytes) or a u64 (8 bytes, 8-aligned). */
export type Field = { kind: 'u32'; value: number } | { kind: 'i32'; value: number } | { kind: 'u64'; value: bigint };

export const ptr = (value: number): Field => ({ kind: 'u32', value });
export const i32 = (value: number): Field => ({ kind: 'i32', value });
export const u64 = (value: bigint): Field => ({ kind: 'u64', value });

const HEADER = 16;

export interface MappingExports {
  memory: WebAssembly.Memory;
  allocate(size: number): number;
  id_of_type(typeId: number): number;
}

export class AscMemory {
  private readonly classIds = new Map<TypeIdName, number>();

  constructor(
    private readonly exports: MappingExports,
    private readonly typeIds: (name: TypeIdName) => number,
  ) {}

  // Views are made afresh on every access: any call into the module may grow (and so detach) the buffer.
  private get dv(): DataView {
    return new DataView(this.exports.memory.buffer);
  }
  private get u8(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  classId(name: TypeIdName): number {
    let id = this.classIds.get(name);
    if (id === undefined) {
      id = this.exports.id_of_type(this.typeIds(name)) >>> 0;
      this.classIds.set(name, id);
    }
    return id;
  }

  // ---- writing -------------------------------------------------------------------------------

  /** Allocates an object of class `type` with `payload` and returns its pointer. */
  alloc(type: TypeIdName, payload: Uint8Array): number {
    // AssemblyScript keeps objects 16-byte aligned; graph-node pads its allocations the same way.
    const size = HEADER + payload.length + ((16 - (payload.length % 16)) % 16);
    const block = this.exports.allocate(size) >>> 0;
    if (block === 0) throw new MappingHostError('WASM_ALLOC_FAILED', `allocate(${size}) returned null`);
    const dv = this.dv;
    dv.setUint32(block, 0, true); // gcInfo
    dv.setUint32(block + 4, 0, true); // gcInfo2
    dv.setUint32(block + 8, this.classId(type), true); // rtId
    dv.setUint32(block + 12, payload.length, true); // rtSize
    this.u8.set(payload, block + HEADER);
    return block + HEADER;
  }

  string(value: string): number {
    const payload = new Uint8Array(value.length * 2);
    const dv = new DataView(payload.buffer);
    for (let i = 0; i < value.length; i++) dv.setUint16(i * 2, value.charCodeAt(i), true);
    return this.alloc('String', payload);
  }

  arrayBuffer(bytes: Uint8Array): number {
    return this.alloc('ArrayBuffer', bytes);
  }

  /** A Uint8Array (graph-ts Bytes, Address, ByteArray). */
  bytes(bytes: Uint8Array): number {
    const buffer = this.arrayBuffer(bytes);
    return this.object('Uint8Array', [ptr(buffer), ptr(buffer), i32(bytes.length)]);
  }

  /** A graph-ts BigInt: signed little-endian two's complement bytes in a Uint8Array. */
  bigInt(value: bigint): number {
    return this.bytes(toSignedLE(value));
  }

  /** An Array<T> of pointers (every class-typed array the host writes). */
  array(type: TypeIdName, pointers: readonly number[]): number {
    const content = new Uint8Array(pointers.length * 4);
    const dv = new DataView(content.buffer);
    pointers.forEach((p, i) => dv.setUint32(i * 4, p, true));
    const buffer = this.arrayBuffer(content);
    return this.object(type, [ptr(buffer), ptr(buffer), i32(content.length), i32(pointers.length)]);
  }

  /** A class instance with `fields` in declaration order. */
  object(type: TypeIdName, fields: readonly Field[]): number {
    let size = 0;
    const offsets = fields.map((f) => {
      const width = f.kind === 'u64' ? 8 : 4;
      size = Math.ceil(size / width) * width;
      const at = size;
      size += width;
      return at;
    });
    const payload = new Uint8Array(size);
    const dv = new DataView(payload.buffer);
    fields.forEach((f, i) => {
      const at = offsets[i]!;
      if (f.kind === 'u64') dv.setBigUint64(at, f.value, true);
      else if (f.kind === 'i32') dv.setInt32(at, f.value, true);
      else dv.setUint32(at, f.value, true);
    });
    return this.alloc(type, payload);
  }

  // ---- reading -------------------------------------------------------------------------------

  private check(p: number, what: string): void {
    if (p === 0) throw new MappingHostError('WASM_NULL_POINTER', `null pointer where a ${what} was expected`);
    if (p < HEADER + 4 || p > this.exports.memory.buffer.byteLength) {
      throw new MappingHostError('WASM_BAD_POINTER', `pointer ${p} to a ${what} is outside the module's memory`);
    }
  }

  rtId(p: number): number {
    return this.dv.getUint32(p - 8, true);
  }

  rtSize(p: number): number {
    return this.dv.getUint32(p - 4, true);
  }

  u32At(p: number): number {
    return this.dv.getUint32(p, true);
  }

  i32At(p: number): number {
    return this.dv.getInt32(p, true);
  }

  u64At(p: number): bigint {
    return this.dv.getBigUint64(p, true);
  }

  readString(p: number): string {
    this.check(p, 'string');
    const units = this.rtSize(p) / 2;
    const dv = this.dv;
    let out = '';
    for (let i = 0; i < units; i += 4096) {
      const chunk: number[] = [];
      for (let j = i; j < Math.min(units, i + 4096); j++) chunk.push(dv.getUint16(p + j * 2, true));
      out += String.fromCharCode(...chunk);
    }
    return out;
  }

  /** The bytes a Uint8Array (Bytes, Address, BigInt) views: a copy. */
  readBytes(p: number): Uint8Array {
    this.check(p, 'Uint8Array');
    const dataStart = this.u32At(p + 4);
    const byteLength = this.i32At(p + 8);
    return this.u8.slice(dataStart, dataStart + byteLength);
  }

  readBigInt(p: number): bigint {
    return fromSignedLE(this.readBytes(p));
  }

  /** The element pointers of an Array<T> of references. */
  readPointerArray(p: number): number[] {
    this.check(p, 'Array');
    const dataStart = this.u32At(p + 4);
    const length = this.i32At(p + 12);
    const out: number[] = [];
    for (let i = 0; i < length; i++) out.push(this.u32At(dataStart + i * 4));
    return out;
  }
}

/** Minimal signed little-endian two's complement bytes (zero is one 0 byte, as graph-node writes it). */
export function toSignedLE(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = Number(v & 0xffn);
    out.push(byte);
    v >>= 8n; // arithmetic shift: stays -1 for negative numbers
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

export function fromSignedLE(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if ((bytes[bytes.length - 1]! & 0x80) !== 0) v -= 1n << BigInt(bytes.length * 8);
  return v;
}
