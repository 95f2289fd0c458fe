/**
 * Recorded Ethereum logs and the `ethereum.Event` objects graph-node hands to event handlers:
 * the log's parameters decoded by the ABI into `ethereum.Value`s, with its block and transaction.
 */
import { decodeAbiParameters, hexToBytes, type AbiEvent, type AbiParameter, type Hex } from 'viem';
import { z } from 'zod';
import { MappingHostError } from './errors.ts';
import { i32, ptr, u64, type AscMemory } from './memory.ts';

const asHex = (v: string): Hex => v.toLowerCase() as Hex;
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'must be 0x-prefixed hex bytes').transform(asHex);
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte hex hash').transform(asHex);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte hex address').transform(asHex);
/** A non-negative integer as bigint, number, or decimal / 0x-hex string (JSON fixtures have no bigint). */
const quantity = z
  .union([z.bigint(), z.number().int(), z.string().regex(/^(0x[0-9a-fA-F]+|\d+)$/)])
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n, 'must not be negative');
const ZERO_HASH = `0x${'00'.repeat(32)}` as Hex;
const ZERO_ADDRESS = `0x${'00'.repeat(20)}` as Hex;

/**
 * One log as recorded from a chain (see record.ts), or made by hand in a test. Block and
 * transaction fields a mapping rarely reads are optional and default to zero.
 */
export const recordedLogSchema = z.object({
  address,
  topics: z.array(hash).min(1, 'an event log has at least its signature topic'),
  data: hex,
  /** Position of the log in its block. */
  logIndex: z.number().int().nonnegative(),
  /** Position of the log in its transaction; defaults to logIndex (graph-node fills it from the block log index). */
  transactionLogIndex: z.number().int().nonnegative().optional(),
  /** A log removed by a reorg is never handed to a mapping. */
  removed: z.boolean().default(false),
  block: z.object({
    number: quantity,
    hash,
    timestamp: quantity,
    parentHash: hash.default(ZERO_HASH),
    unclesHash: hash.default(ZERO_HASH),
    author: address.default(ZERO_ADDRESS),
    stateRoot: hash.default(ZERO_HASH),
    transactionsRoot: hash.default(ZERO_HASH),
    receiptsRoot: hash.default(ZERO_HASH),
    gasUsed: quantity.default(0n),
    gasLimit: quantity.default(0n),
    difficulty: quantity.default(0n),
    totalDifficulty: quantity.default(0n),
    size: quantity.nullable().default(null),
    baseFeePerGas: quantity.nullable().default(null),
  }),
  transaction: z.object({
    hash,
    index: z.number().int().nonnegative(),
    from: address,
    to: address.nullable(),
    value: quantity.default(0n),
    gasLimit: quantity.default(0n),
    gasPrice: quantity.default(0n),
    input: hex.default('0x'),
    nonce: quantity.default(0n),
  }),
});

/** What callers pass (quantities as bigint, number or string). */
export type RecordedLog = z.input<typeof recordedLogSchema>;
/** After validation and defaults. */
export type ParsedLog = z.output<typeof recordedLogSchema>;

export function parseRecordedLog(log: RecordedLog, where = 'log'): ParsedLog {
  const parsed = recordedLogSchema.safeParse(log);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new MappingHostError('HOST_BAD_LOG', `${where} is not a valid recorded log: ${problems}`);
  }
  return parsed.data;
}

/** graph-ts ethereum.ValueKind (chain/ethereum.ts). */
export const EthKind = {
  ADDRESS: 0,
  FIXED_BYTES: 1,
  BYTES: 2,
  INT: 3,
  UINT: 4,
  BOOL: 5,
  STRING: 6,
  FIXED_ARRAY: 7,
  ARRAY: 8,
  TUPLE: 9,
} as const;

export type EthValue =
  | { kind: typeof EthKind.ADDRESS | typeof EthKind.FIXED_BYTES | typeof EthKind.BYTES; bytes: Uint8Array }
  | { kind: typeof EthKind.INT | typeof EthKind.UINT; value: bigint }
  | { kind: typeof EthKind.BOOL; value: boolean }
  | { kind: typeof EthKind.STRING; value: string }
  | { kind: typeof EthKind.FIXED_ARRAY | typeof EthKind.ARRAY | typeof EthKind.TUPLE; values: EthValue[] };

export interface EventParam {
  name: string;
  value: EthValue;
}

const isDynamic = (p: AbiParameter): boolean =>
  p.type === 'string' || p.type === 'bytes' || p.type.endsWith(']') || p.type.startsWith('tuple');

/** A decoded ABI value (viem's JS form) as an ethereum.Value of type `param`. */
function toEthValue(param: AbiParameter, value: unknown): EthValue {
  const type = param.type;
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    const inner = { ...param, type: array[1]! } as AbiParameter;
    const values = (value as readonly unknown[]).map((v) => toEthValue(inner, v));
    return { kind: array[2] === '' ? EthKind.ARRAY : EthKind.FIXED_ARRAY, values };
  }
  if (type === 'tuple' && 'components' in param) {
    const values = param.components.map((c, i) => {
      const v = Array.isArray(value) ? (value as unknown[])[i] : (value as Record<string, unknown>)[c.name ?? String(i)];
      return toEthValue(c, v);
    });
    return { kind: EthKind.TUPLE, values };
  }
  if (type === 'address') return { kind: EthKind.ADDRESS, bytes: hexToBytes(value as Hex) };
  if (type === 'bytes') return { kind: EthKind.BYTES, bytes: hexToBytes(value as Hex) };
  if (/^bytes\d+$/.test(type)) return { kind: EthKind.FIXED_BYTES, bytes: hexToBytes(value as Hex) };
  // viem decodes integers up to 48 bits as numbers, wider ones as bigints.
  if (/^uint\d*$/.test(type)) return { kind: EthKind.UINT, value: BigInt(value as bigint | number) };
  if (/^int\d*$/.test(type)) return { kind: EthKind.INT, value: BigInt(value as bigint | number) };
  if (type === 'bool') return { kind: EthKind.BOOL, value: value as boolean };
  if (type === 'string') return { kind: EthKind.STRING, value: value as string };
  throw new MappingHostError('HOST_UNSUPPORTED', `ABI type ${type} is not supported by the mapping host`);
}

/** The event's parameters in ABI order, as graph-node passes them (indexed dynamic values stay 32-byte hashes). */
export function decodeEventParams(event: AbiEvent, log: Pick<ParsedLog, 'topics' | 'data'>): EventParam[] {
  const indexed = event.inputs.filter((i) => i.indexed);
  if (log.topics.length !== indexed.length + 1) {
    throw new MappingHostError('HOST_BAD_LOG', `${event.name} has ${indexed.length} indexed inputs but the log has ${log.topics.length - 1} topics`);
  }
  const unindexed = event.inputs.filter((i) => !i.indexed);
  let data: readonly unknown[];
  try {
    data = decodeAbiParameters(unindexed, log.data);
  } catch (cause) {
    throw new MappingHostError('HOST_BAD_LOG', `the data of a ${event.name} log does not decode`, { cause });
  }
  let topic = 1;
  let datum = 0;
  return event.inputs.map((input, i) => {
    const name = input.name ?? `param${i}`;
    if (!input.indexed) return { name, value: toEthValue(input, data[datum++]) };
    const word = log.topics[topic++]!;
    if (isDynamic(input)) return { name, value: { kind: EthKind.FIXED_BYTES, bytes: hexToBytes(word) } };
    return { name, value: toEthValue(input, decodeAbiParameters([input], word)[0]) };
  });
}

function writeEthValue(mem: AscMemory, value: EthValue): number {
  let payload: bigint;
  switch (value.kind) {
    case EthKind.ADDRESS:
    case EthKind.FIXED_BYTES:
    case EthKind.BYTES:
      payload = BigInt(mem.bytes(value.bytes));
      break;
    case EthKind.INT:
    case EthKind.UINT:
      payload = BigInt(mem.bigInt(value.value));
      break;
    case EthKind.BOOL:
      payload = value.value ? 1n : 0n;
      break;
    case EthKind.STRING:
      payload = BigInt(mem.string(value.value));
      break;
    case EthKind.FIXED_ARRAY:
    case EthKind.ARRAY:
    case EthKind.TUPLE:
      payload = BigInt(mem.array('ArrayEthereumValue', value.values.map((v) => writeEthValue(mem, v))));
      break;
  }
  return mem.object('EthereumValue', [i32(value.kind), u64(payload)]);
}

const bytesOf = (mem: AscMemory, h: Hex): number => mem.bytes(hexToBytes(h));
const optionalBigInt = (mem: AscMemory, v: bigint | null): number => (v === null ? 0 : mem.bigInt(v));

/** Writes an `ethereum.Event` (fields in graph-ts declaration order) and returns its pointer. */
export function writeEvent(mem: AscMemory, log: ParsedLog, params: readonly EventParam[]): number {
  const b = log.block;
  const block = mem.object('EthereumBlock', [
    ptr(bytesOf(mem, b.hash)),
    ptr(bytesOf(mem, b.parentHash)),
    ptr(bytesOf(mem, b.unclesHash)),
    ptr(bytesOf(mem, b.author)),
    ptr(bytesOf(mem, b.stateRoot)),
    ptr(bytesOf(mem, b.transactionsRoot)),
    ptr(bytesOf(mem, b.receiptsRoot)),
    ptr(mem.bigInt(b.number)),
    ptr(mem.bigInt(b.gasUsed)),
    ptr(mem.bigInt(b.gasLimit)),
    ptr(mem.bigInt(b.timestamp)),
    ptr(mem.bigInt(b.difficulty)),
    ptr(mem.bigInt(b.totalDifficulty)),
    ptr(optionalBigInt(mem, b.size)),
    ptr(optionalBigInt(mem, b.baseFeePerGas)),
  ]);
  const t = log.transaction;
  const transaction = mem.object('EthereumTransaction', [
    ptr(bytesOf(mem, t.hash)),
    ptr(mem.bigInt(BigInt(t.index))),
    ptr(bytesOf(mem, t.from)),
    ptr(t.to === null ? 0 : bytesOf(mem, t.to)),
    ptr(mem.bigInt(t.value)),
    ptr(mem.bigInt(t.gasLimit)),
    ptr(mem.bigInt(t.gasPrice)),
    ptr(bytesOf(mem, t.input)),
    ptr(mem.bigInt(t.nonce)),
  ]);
  const parameters = mem.array(
    'ArrayEventParam',
    params.map((p) => mem.object('EventParam', [ptr(mem.string(p.name)), ptr(writeEthValue(mem, p.value))])),
  );
  return mem.object('EthereumEvent', [
    ptr(bytesOf(mem, log.address)),
    ptr(mem.bigInt(BigInt(log.logIndex))),
    ptr(mem.bigInt(BigInt(log.transactionLogIndex ?? log.logIndex))),
    ptr(0), // logType: null, as graph-node passes for RPC logs
    ptr(block),
    ptr(transaction),
    ptr(parameters),
    ptr(0), // receipt: null unless the handler asks for `receipt: true`
  ]);
}
