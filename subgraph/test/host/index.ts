/**
 * A small graph-node stand-in that runs the subgraph's compiled WASM mappings in Node.
 * No matchstick binary exists for this machine, so the host provides the graph-node host
 * functions the modules import (only those: an import it does not implement is an error that
 * names it), writes each log's `ethereum.Event` into the module's memory and calls the handler.
 *
 * Like graph-node, it runs every trigger in a fresh instance of the module (after `_start`),
 * handles triggers in block and log order, filters logs by each data source's address and start
 * block, skips removed logs, and checks every store write against schema.graphql.
 *
 * File data sources (templates of kind file/ipfs) that a handler creates are kept as pending
 * files; after the logs, each one whose CID `files` can serve runs its template's handler with
 * the bytes, `dataSource.stringParam()` the CID and `dataSource.context()` the creator's context,
 * as graph-node does once the file is fetched. Those still missing stay pending (resolveFiles()
 * tries again), like a file graph-node cannot find yet.
 *
 *   runMappings(logs, { sources, files }) → EntityDump
 *
 * See docs/decisions/003-subgraph-mapping-tests.md for the layout and the limits.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, isAddressEqual, toEventSelector, type Abi, type AbiEvent, type Address, type Hex } from 'viem';
import type { ContractName } from '@consentry/sdk/deployment';
import { abiEvent, DATA_SOURCES, SUBGRAPH_DIR, TEMPLATES, type FileTemplateSpec } from '../../scripts/manifest.ts';
import { templateWasmFile, wasmFile } from './build.ts';
import { MappingHostError } from './errors.ts';
import { decodeEventParams, parseRecordedLog, writeEvent, type ParsedLog, type RecordedLog } from './ethereum.ts';
import { writeJsonResult, parseJsonBytes, writeJsonValue } from './json.ts';
import { AscMemory, type MappingExports, type TypeIdName } from './memory.ts';
import { loadEntitySchema } from './schema.ts';
import { bigDecimalToString, EntityStore, readEntity, writeEntity, type EntityData, type EntityDump } from './store.ts';

export type { RecordedLog } from './ethereum.ts';
export type { DumpValue, EntityDump } from './store.ts';
export { MappingHostError } from './errors.ts';
export { ensureSubgraphBuilt } from './build.ts';

export type LogLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug';
const LEVELS: readonly LogLevel[] = ['critical', 'error', 'warning', 'info', 'debug'];

export interface MappingLogLine {
  level: LogLevel;
  message: string;
}

export interface DataSourceFilter {
  address: Address;
  startBlock?: number;
}

export interface MappingHostOptions {
  /** Defaults to this package's directory (build/ and abis/ inside it). */
  subgraphDir?: string;
  /**
   * Per data source, the contract address (and start block) whose logs it handles, as
   * graph-node filters by the manifest's `source`. A data source without one handles matching
   * events from any address.
   */
  sources?: Partial<Record<ContractName, DataSourceFilter>>;
  /** The bytes of a file data source's CID, or undefined while it cannot be fetched (IPFS stand-in). */
  files?: (cid: string) => Uint8Array | undefined;
}

/** A file data source created by a handler, waiting for (or done with) its file. */
export interface PendingFile {
  template: string;
  cid: string;
  context: EntityData;
  /** Block of the handler that created it. */
  block: bigint;
  done: boolean;
}

/** What `dataSource.*` host functions answer during one handler call. */
interface CallContext {
  address: Uint8Array;
  context: EntityData;
}

interface Trigger {
  contract: ContractName;
  event: AbiEvent;
  handler: string;
}

interface LoadedSource {
  module: WebAssembly.Module;
  triggers: Map<Hex, Trigger>;
}

// Compiled modules are shared across hosts (keyed by file and mtime): compiling is the slow part.
const moduleCache = new Map<string, { mtimeMs: number; module: WebAssembly.Module }>();

function compile(file: string): WebAssembly.Module {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    throw new MappingHostError('HOST_NO_WASM', `${file} is missing: build the subgraph (npm run build -w @consentry/subgraph)`);
  }
  const cached = moduleCache.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.module;
  const module = new WebAssembly.Module(readFileSync(file));
  moduleCache.set(file, { mtimeMs, module });
  return module;
}

type HostFunction = (...args: number[]) => number | void;

export class MappingHost {
  readonly store: EntityStore;
  /** Lines the mappings logged (log.info, log.warning, ...). */
  readonly logs: MappingLogLine[] = [];
  /** Handler invocations, in order. */
  readonly calls: Array<{ handler: string; block: bigint; logIndex: number }> = [];
  /** File data sources created so far, in creation order. */
  readonly files: PendingFile[] = [];
  private readonly sources = new Map<ContractName, LoadedSource>();
  private readonly templates = new Map<string, { spec: FileTemplateSpec; module: WebAssembly.Module }>();
  private currentBlock: bigint | undefined;
  private blockWrites = new Set<string>();

  constructor(private readonly opts: MappingHostOptions = {}) {
    const dir = opts.subgraphDir ?? SUBGRAPH_DIR;
    this.store = new EntityStore(loadEntitySchema(join(dir, 'schema.graphql')));
    for (const ds of DATA_SOURCES) {
      const abi = JSON.parse(readFileSync(join(dir, 'abis', `${ds.contract}.json`), 'utf8')) as Abi;
      const triggers = new Map<Hex, Trigger>();
      for (const [eventName, handler] of Object.entries(ds.handlers)) {
        const event = abiEvent(abi, ds.contract, eventName);
        triggers.set(toEventSelector(event), { contract: ds.contract, event, handler });
      }
      this.sources.set(ds.contract, { module: compile(wasmFile(ds.contract, dir)), triggers });
    }
    for (const t of TEMPLATES) this.templates.set(t.name, { spec: t, module: compile(templateWasmFile(t, dir)) });
  }

  /** Handles `logs` in chain order (block number, then log index), as graph-node would. */
  run(logs: readonly RecordedLog[]): this {
    const parsed = logs.map((l, i) => parseRecordedLog(l, `logs[${i}]`));
    parsed.sort((a, b) => (a.block.number === b.block.number ? a.logIndex - b.logIndex : a.block.number < b.block.number ? -1 : 1));
    for (const log of parsed) this.handle(log);
    this.resolveFiles();
    return this;
  }

  /** Runs the handler of every pending file data source whose file is available now. */
  resolveFiles(): this {
    for (const file of this.files) {
      if (file.done) continue;
      const content = this.opts.files?.(file.cid);
      if (!content) continue;
      const { spec, module } = this.templates.get(file.template)!;
      const where = `${spec.handler} (file ${file.cid}, created in block ${file.block})`;
      const call: CallContext = { address: new TextEncoder().encode(file.cid), context: file.context };
      this.calls.push({ handler: spec.handler, block: file.block, logIndex: -1 });
      this.call(module, spec.name, spec.handler, where, call, (mem) => mem.bytes(content));
      file.done = true;
    }
    return this;
  }

  dump(): EntityDump {
    return this.store.dump();
  }

  private handle(log: ParsedLog): void {
    if (log.removed) return;
    if (this.currentBlock !== log.block.number) {
      this.currentBlock = log.block.number;
      this.blockWrites = new Set();
    }
    for (const [contract, source] of this.sources) {
      const filter = this.opts.sources?.[contract];
      if (filter && !isAddressEqual(filter.address, log.address)) continue;
      if (filter?.startBlock !== undefined && log.block.number < BigInt(filter.startBlock)) continue;
      const trigger = source.triggers.get(log.topics[0]!);
      if (!trigger) continue;
      this.invoke(source.module, trigger, log);
    }
  }

  private invoke(module: WebAssembly.Module, trigger: Trigger, log: ParsedLog): void {
    const where = `${trigger.handler} (block ${log.block.number}, tx ${log.transaction.hash}, log ${log.logIndex})`;
    const params = decodeEventParams(trigger.event, log);
    this.calls.push({ handler: trigger.handler, block: log.block.number, logIndex: log.logIndex });
    const call: CallContext = { address: hexToBytes(log.address), context: new Map() };
    this.call(module, trigger.contract, trigger.handler, where, call, (mem) => writeEvent(mem, log, params));
  }

  /** One handler call in a fresh instance: `argument` writes its one argument into the module's memory. */
  private call(
    module: WebAssembly.Module,
    source: string,
    handlerName: string,
    where: string,
    call: CallContext,
    argument: (mem: AscMemory) => number,
  ): void {
    let mem: AscMemory | undefined;
    const memory = (): AscMemory => {
      if (!mem) throw new MappingHostError('HOST_EARLY_CALL', 'a host function was called before the module was ready');
      return mem;
    };
    const instance = new WebAssembly.Instance(module, this.imports(module, memory, where, call));
    const exports = instance.exports as unknown as MappingExports & Record<string, unknown>;
    mem = new AscMemory(exports, (name: TypeIdName) => {
      const global = instance.exports[`TypeId.${name}`];
      if (!(global instanceof WebAssembly.Global)) throw new MappingHostError('WASM_NO_TYPEID', `the module exports no TypeId.${name}`);
      return global.value as number;
    });
    const start = exports._start;
    if (typeof start === 'function') (start as () => void)();
    const handler = exports[handlerName];
    if (typeof handler !== 'function') {
      throw new MappingHostError('HOST_NO_HANDLER', `the ${source} module exports no ${handlerName}`);
    }
    const arg = argument(mem);
    try {
      (handler as (p: number) => void)(arg);
    } catch (err) {
      if (err instanceof MappingHostError) {
        throw new MappingHostError(err.code, `${where}: ${err.message}`, { cause: err });
      }
      throw new MappingHostError('MAPPING_TRAPPED', `${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** The host functions the module imports, or an error naming those the host lacks. */
  private imports(module: WebAssembly.Module, mem: () => AscMemory, where: string, call: CallContext): WebAssembly.Imports {
    const createDataSource = (name: number, params: number, context: EntityData) => {
      const m = mem();
      const template = m.readString(name);
      const args = m.readPointerArray(params).map((p) => m.readString(p));
      const spec = this.templates.get(template)?.spec;
      if (!spec) throw new MappingHostError('HOST_NO_TEMPLATE', `dataSource.create: no template named ${template}`);
      if (args.length !== 1) throw new MappingHostError('HOST_BAD_TEMPLATE_PARAMS', `a ${spec.kind} template takes one parameter (the CID), got ${args.length}`);
      this.files.push({ template, cid: args[0]!, context, block: this.currentBlock ?? 0n, done: false });
    };
    const fns: Record<string, HostFunction> = {
      'env.abort': (message, file, line, column) => {
        const text = message ? mem().readString(message) : '(no message)';
        const at = file ? `${mem().readString(file)}, line ${line}, column ${column}` : 'an unknown place';
        throw new MappingHostError('MAPPING_ABORTED', `mapping aborted at ${at}, with message: ${text}`);
      },
      'index.store.get': (entity, id) => this.storeGet(mem(), entity!, id!, false),
      'index.store.get_in_block': (entity, id) => this.storeGet(mem(), entity!, id!, true),
      'index.store.set': (entity, id, data) => {
        const m = mem();
        const type = m.readString(entity);
        const key = m.readString(id);
        this.store.set(type, key, readEntity(m, data));
        this.blockWrites.add(`${type}\u0000${key}`);
      },
      'index.log.log': (level, message) => {
        const line = { level: LEVELS[level] ?? 'debug', message: mem().readString(message) };
        if (line.level === 'critical') throw new MappingHostError('MAPPING_CRITICAL', `critical: ${line.message}`);
        this.logs.push(line);
      },
      'datasource.dataSource.create': (name, params) => createDataSource(name!, params!, new Map()),
      'datasource.dataSource.createWithContext': (name, params, context) => createDataSource(name!, params!, readEntity(mem(), context!)),
      'datasource.dataSource.context': () => writeEntity(mem(), call.context),
      'datasource.dataSource.address': () => mem().bytes(call.address),
      'json.json.try_fromBytes': (bytes) => writeJsonResult(mem(), mem().readBytes(bytes!)),
      'json.json.fromBytes': (bytes) => {
        const parsed = parseJsonBytes(mem().readBytes(bytes!));
        if (!parsed) throw new MappingHostError('MAPPING_BAD_JSON', 'json.fromBytes: the bytes are not JSON');
        return writeJsonValue(mem(), parsed.value);
      },
      'conversion.typeConversion.bytesToHex': (bytes) => mem().string(bytesToHex(mem().readBytes(bytes))),
      'conversion.typeConversion.bigIntToString': (n) => mem().string(mem().readBigInt(n).toString()),
      'numbers.bigInt.plus': (a, b) => mem().bigInt(mem().readBigInt(a!) + mem().readBigInt(b!)),
      'numbers.bigInt.minus': (a, b) => mem().bigInt(mem().readBigInt(a!) - mem().readBigInt(b!)),
      'numbers.bigDecimal.toString': (bd) => {
        const m = mem();
        return m.string(bigDecimalToString(m.readBigInt(m.u32At(bd)), m.readBigInt(m.u32At(bd + 4))));
      },
    };
    const imports: Record<string, Record<string, HostFunction>> = {};
    const missing: string[] = [];
    for (const imp of WebAssembly.Module.imports(module)) {
      const fn = fns[`${imp.module}.${imp.name}`];
      if (imp.kind !== 'function' || !fn) {
        missing.push(`${imp.module}.${imp.name}`);
        continue;
      }
      (imports[imp.module] ??= {})[imp.name] = fn;
    }
    if (missing.length > 0) {
      throw new MappingHostError('HOST_MISSING_IMPORT', `${where}: the mapping imports ${missing.join(', ')}, which the test host does not provide yet (add it to test/host/index.ts)`);
    }
    return imports;
  }

  private storeGet(m: AscMemory, entityPtr: number, idPtr: number, inBlock: boolean): number {
    const entity = m.readString(entityPtr);
    const id = m.readString(idPtr);
    if (inBlock && !this.blockWrites.has(`${entity}\u0000${id}`)) return 0;
    const data = this.store.get(entity, id);
    return data ? writeEntity(m, data) : 0;
  }
}

/** Runs `logs` through the subgraph's mappings and returns the resulting entities. */
export function runMappings(logs: readonly RecordedLog[], opts: MappingHostOptions = {}): EntityDump {
  return new MappingHost(opts).run(logs).dump();
}
