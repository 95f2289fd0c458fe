// The embedded indexer: follows the logs of the deployment's contracts (PatientRegistry, and
// RecordAnchor, OrganizationRegistry, AccessGrants and ReleaseCommittee when deployed) page by page, CONFIRMATIONS behind the head, and writes each page
// (entities, block hashes, checkpoint) in one transaction. Before every page it checks that its
// checkpoint is still on the chain; if not, it finds the newest block it remembers that still
// is, rolls back to it and indexes the new branch.
//
// Batch manifests: a BatchAnchored event records its manifest as pending, in the page. Between
// pages (and when idle) the indexer fetches due manifests from the blob store and writes their
// RecordVersions, one transaction per manifest. A manifest that is not there yet is retried
// with exponential backoff (manifestRetryMs doubling, at most 10 minutes), forever, with a
// warning each time; chain following never waits for it (at most 20 reads per step, each given
// 10 s before it counts as missing). An invalid manifest is dropped for
// good (its batch keeps no versions, as in the subgraph). A reorg that removes a batch removes
// its pending manifest and its versions.
import { rpcOrigin } from '@consentry/sdk/clients';
import { manifestCid } from '@consentry/sdk/anchor/manifest';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import type { Deployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import { pino, type Logger } from 'pino';
import { BlockNotFoundError, createPublicClient, http, isAddressEqual, type Address, type Hex, type PublicClient } from 'viem';
import type { ContractName } from '@consentry/sdk/deployment';
import { MUTABLE_ENTITIES, type BlockRef, type ChainIdentity, type MutableEntityName, type PendingManifest, type Store } from '../db/store.ts';
import { IndexerError } from './errors.ts';
import {
  entitiesRead,
  handlePatientRegistryEvent,
  patientRegistryEvents,
  type PatientRegistryEvent,
} from './mappings/patient-registry.ts';
import {
  handleRecordAnchorEvent,
  recordAnchorEvents,
  recordVersionsOf,
  type RecordAnchorEvent,
} from './mappings/record-anchor.ts';
import {
  accessEntitiesRead,
  accessGrantsEvents,
  handleAccessGrantsEvent,
  type AccessGrantsEvent,
} from './mappings/access-grants.ts';
import {
  handleOrganizationRegistryEvent,
  organizationEntitiesRead,
  organizationRegistryEvents,
  type OrganizationRegistryEvent,
} from './mappings/organization-registry.ts';
import {
  committeeEntitiesRead,
  handleReleaseCommitteeEvent,
  releaseCommitteeEvents,
  type ReleaseCommitteeEvent,
} from './mappings/release-committee.ts';
import {
  consentTokenEvents,
  handleMarketEvent,
  issuerRegistryEvents,
  marketEntitiesRead,
  studyMarketEvents,
  studyRegistryEvents,
  type MarketEvent,
} from './mappings/market.ts';
import { PageContext } from './page.ts';

export type IndexerLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export type IndexerOptions = {
  rpcUrl: string;
  deployment: Deployment;
  store: Store;
  /** Blocks to stay behind the head (default 2). */
  confirmations?: number;
  /** Blocks per getLogs page (default 1000; halved automatically when the RPC refuses a range). */
  pageSize?: number;
  /** Pause when caught up, in ms (default 1000). */
  pollIntervalMs?: number;
  /** Reorgs up to this deep are rolled back block by block; deeper ones re-index (default 250). */
  reorgThreshold?: number;
  logger?: IndexerLogger;
  /** Where batch manifests are fetched from; without it, batches are indexed without their RecordVersions. */
  blobs?: BlobStore;
  /** First retry delay for a manifest that is not in the blob store yet, doubling up to 10 minutes (default 5000). */
  manifestRetryMs?: number;
  /** A blob store read slower than this counts as missing, retried later (default 10 s): S3 reads have no timeout of their own. */
  manifestTimeoutMs?: number;
};

type ChainEvent =
  | PatientRegistryEvent
  | RecordAnchorEvent
  | OrganizationRegistryEvent
  | AccessGrantsEvent
  | ReleaseCommitteeEvent
  | MarketEvent;

/** One followed contract: the events it emits, the entities its handlers read and the handler. */
type Family = {
  contract: ContractName;
  // viem's event item types differ per ABI; getLogs gets them all as one list.
  events: readonly { type: 'event'; name: string }[];
  read: (event: ChainEvent) => Array<[MutableEntityName, string]>;
  handle: (ctx: PageContext, event: ChainEvent) => void;
};

/** Every contract the indexer can follow; those missing from a deployment are skipped. */
const FAMILIES: readonly Family[] = [
  {
    contract: 'PatientRegistry',
    events: patientRegistryEvents,
    read: (e) => entitiesRead(e as PatientRegistryEvent),
    handle: (ctx, e) => handlePatientRegistryEvent(ctx, e as PatientRegistryEvent),
  },
  {
    contract: 'RecordAnchor',
    events: recordAnchorEvents,
    read: () => [],
    handle: (ctx, e) => handleRecordAnchorEvent(ctx, e as RecordAnchorEvent),
  },
  {
    contract: 'OrganizationRegistry',
    events: organizationRegistryEvents,
    read: (e) => organizationEntitiesRead(e as OrganizationRegistryEvent),
    handle: (ctx, e) => handleOrganizationRegistryEvent(ctx, e as OrganizationRegistryEvent),
  },
  {
    contract: 'AccessGrants',
    events: accessGrantsEvents,
    read: (e) => accessEntitiesRead(e as AccessGrantsEvent),
    handle: (ctx, e) => handleAccessGrantsEvent(ctx, e as AccessGrantsEvent),
  },
  {
    contract: 'ReleaseCommittee',
    events: releaseCommitteeEvents,
    read: (e) => committeeEntitiesRead(e as ReleaseCommitteeEvent),
    handle: (ctx, e) => handleReleaseCommitteeEvent(ctx, e as ReleaseCommitteeEvent),
  },
  ...(['StudyRegistry', 'ConsentToken', 'StudyMarket', 'IssuerRegistry'] as const).map(
    (contract): Family => ({
      contract,
      events: { StudyRegistry: studyRegistryEvents, ConsentToken: consentTokenEvents, StudyMarket: studyMarketEvents, IssuerRegistry: issuerRegistryEvents }[
        contract
      ],
      read: (e) => marketEntitiesRead(e as MarketEvent),
      handle: (ctx, e) => handleMarketEvent(ctx, e as MarketEvent),
    }),
  ),
];

export type IndexerStatus = {
  checkpoint: BlockRef | null;
  /** Latest head seen on the chain. */
  head: number | null;
  running: boolean;
  /** A page failed for a reason other than the chain being unreachable (like graph-node's flag). */
  hasIndexingErrors: boolean;
  lastError: string | null;
  pages: number;
  events: number;
  reorgs: number;
  /** Manifests whose RecordVersions were written, and manifests dropped as invalid. */
  manifestsFetched: number;
  manifestsInvalid: number;
};

export interface Indexer {
  /** Runs the follow loop in the background until stop(). */
  start(): void;
  /** Finishes the page in progress and stops. */
  stop(): Promise<void>;
  /** Indexes until caught up with head - confirmations (as of now), then returns. Not while started. */
  syncToHead(): Promise<IndexerStatus>;
  /** Resolves when the checkpoint reaches `blockNumber` (the loop must be running). */
  waitForBlock(blockNumber: number, timeoutMs?: number): Promise<IndexerStatus>;
  status(): IndexerStatus;
}

type StepResult = 'page' | 'idle' | 'reorg' | 'retry';

const MANIFEST_RETRY_MAX_MS = 10 * 60_000;
/** Manifests fetched per step at most, so a backlog never holds up chain following for long. */
const MANIFESTS_PER_STEP = 20;


const RANGE_ERROR = /range|limit|too many|exceed|more than|10000|response size/i;

/** scheme://host:port of an RPC URL: its path or query may hold an API key, which never goes in a log. */
export function createIndexer(options: IndexerOptions): Indexer {
  const { rpcUrl, deployment, store } = options;
  const confirmations = options.confirmations ?? 2;
  const maxPageSize = options.pageSize ?? 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const reorgThreshold = options.reorgThreshold ?? 250;
  const log = options.logger ?? pino({ level: 'silent' });
  if (!Number.isInteger(confirmations) || confirmations < 0) throw new RangeError('confirmations must be >= 0');
  if (!Number.isInteger(maxPageSize) || maxPageSize < 1) throw new RangeError('pageSize must be >= 1');

  const registry = deployment.contracts.PatientRegistry;
  const anchor = deployment.contracts.RecordAnchor ?? null;
  const followed = FAMILIES.flatMap((family) => {
    const entry = deployment.contracts[family.contract];
    return entry ? [{ ...family, address: entry.address, startBlock: entry.startBlock }] : [];
  });
  const startBlock = Math.min(...followed.map((f) => f.startBlock));
  const addresses: Address[] = followed.map((f) => f.address);
  const addressOf = (contract: ContractName): string | null => deployment.contracts[contract]?.address.toLowerCase() ?? null;
  const blobs = options.blobs;
  const manifestRetryMs = options.manifestRetryMs ?? 5000;
  const manifestTimeoutMs = options.manifestTimeoutMs ?? 10_000;
  if (anchor && !blobs) log.warn('no blob store: anchored batches are indexed without their record versions');
  const endpoint = rpcOrigin(rpcUrl);
  const redact = (message: string) => message.split(rpcUrl).join(endpoint);
  const client: PublicClient = createPublicClient({
    // Batched JSON-RPC: a page's block headers go in one request.
    transport: http(rpcUrl, { batch: { batchSize: 500 }, retryCount: 2, timeout: 30_000 }),
    cacheTime: 0,
  });

  let identity: ChainIdentity | null = null;
  let checkpoint: BlockRef | null = null;
  let pageSize = maxPageSize;
  let loop: Promise<void> | null = null;
  let syncing = false;
  let stopping = false;
  let wake: (() => void) | null = null;
  const waiters = new Set<() => void>();
  const status: IndexerStatus = {
    checkpoint: null,
    head: null,
    running: false,
    hasIndexingErrors: false,
    lastError: null,
    pages: 0,
    events: 0,
    reorgs: 0,
    manifestsFetched: 0,
    manifestsInvalid: 0,
  };

  function setCheckpoint(block: BlockRef | null): void {
    checkpoint = block;
    status.checkpoint = block;
    for (const w of waiters) w();
  }

  async function header(blockNumber: number): Promise<BlockRef | null> {
    try {
      const b = await client.getBlock({ blockNumber: BigInt(blockNumber), includeTransactions: false });
      if (b.hash === null || b.number === null) return null;
      return { number: Number(b.number), hash: b.hash.toLowerCase(), timestamp: Number(b.timestamp) };
    } catch (err) {
      if (err instanceof BlockNotFoundError) return null;
      throw err;
    }
  }

  async function isCanonical(block: BlockRef): Promise<boolean> {
    return (await header(block.number))?.hash === block.hash;
  }

  /** Checks the chain and deployment, and starts over when the store holds another chain's data. */
  async function init(): Promise<void> {
    let chainId: number;
    try {
      chainId = await client.getChainId();
    } catch (cause) {
      throw new IndexerError('RPC_UNREACHABLE', `Cannot reach the chain at ${endpoint}`, { cause });
    }
    if (chainId !== deployment.chainId) {
      throw new IndexerError(
        'CHAIN_ID_MISMATCH',
        `The chain at ${endpoint} has id ${chainId}, but the deployment is for chain ${deployment.chainId}`,
      );
    }
    const start = await header(startBlock);
    if (!start) {
      throw new IndexerError(
        'DEPLOYMENT_NOT_ON_CHAIN',
        `The deployment's start block ${startBlock} is beyond the chain head: deploy again on this chain`,
      );
    }
    identity = {
      chainId,
      contractAddress: registry.address.toLowerCase(),
      anchorAddress: addressOf('RecordAnchor'),
      organizationRegistryAddress: addressOf('OrganizationRegistry'),
      accessGrantsAddress: addressOf('AccessGrants'),
      releaseCommitteeAddress: addressOf('ReleaseCommittee'),
      startBlock,
      startBlockHash: start.hash,
    };
    const state = await store.readState();
    const same =
      state !== null &&
      state.chainId === identity.chainId &&
      state.contractAddress === identity.contractAddress &&
      state.anchorAddress === identity.anchorAddress &&
      state.organizationRegistryAddress === identity.organizationRegistryAddress &&
      state.accessGrantsAddress === identity.accessGrantsAddress &&
      state.releaseCommitteeAddress === identity.releaseCommitteeAddress &&
      state.startBlock === identity.startBlock &&
      state.startBlockHash === identity.startBlockHash;
    if (!same) {
      if (state) log.warn({ startBlock: identity.startBlock }, 'the chain or the deployment changed: re-indexing from the start block');
      await store.resetState(identity);
      setCheckpoint(null);
    } else {
      setCheckpoint(state.checkpoint);
    }
    log.info(
      { chainId, contract: identity.contractAddress, anchor: identity.anchorAddress, startBlock: identity.startBlock, checkpoint: checkpoint?.number ?? null, store: store.location },
      'indexer ready',
    );
  }

  /** Which contract emits an event (event names are unique across them): logs of another contract's events are not ours. */
  const emitter = new Map<string, (typeof followed)[number]>(followed.flatMap((f) => f.events.map((e): [string, (typeof followed)[number]] => [e.name, f])));
  const followedEvents = followed.flatMap((f) => f.events) as unknown as typeof patientRegistryEvents;

  async function fetchLogs(fromBlock: number, toBlock: number): Promise<ChainEvent[]> {
    const logs = await client.getLogs({
      address: addresses,
      events: followedEvents,
      fromBlock: BigInt(fromBlock),
      toBlock: BigInt(toBlock),
      strict: true,
    });
    return logs
      .filter((l) => l.blockNumber !== null && l.logIndex !== null && l.transactionHash !== null)
      .filter((l) => {
        const from = emitter.get(l.eventName);
        return from !== undefined && isAddressEqual(from.address, l.address);
      })
      .map(
        (l) =>
          ({
            eventName: l.eventName,
            args: l.args,
            blockNumber: Number(l.blockNumber),
            blockHash: l.blockHash,
            blockTimestamp: 0n,
            transactionHash: l.transactionHash,
            logIndex: l.logIndex,
          }) as ChainEvent & { blockHash: Hex },
      )
      .sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  /** Rolls back to the newest remembered block that is still on the chain. */
  async function handleReorg(): Promise<void> {
    const orphaned = checkpoint;
    const blocks = await store.recentBlocks();
    // On-chain blocks form a prefix of the remembered ones: binary search its end.
    let lo = 0;
    let hi = blocks.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (await isCanonical(blocks[mid]!)) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    status.reorgs += 1;
    if (found === -1) {
      log.warn({ checkpoint: orphaned?.number }, 'reorg deeper than the remembered blocks: re-indexing from the start block');
      await init();
      await store.resetState(identity!);
      setCheckpoint(null);
      return;
    }
    const ancestor = blocks[found]!;
    const summary = await store.rollbackTo(ancestor);
    setCheckpoint(ancestor);
    log.warn(
      { from: orphaned?.number, to: ancestor.number, deleted: summary.deleted, restored: summary.restored },
      'chain reorganisation: rolled back',
    );
  }

  async function step(): Promise<StepResult> {
    if (!identity) await init();
    const head = Number(await client.getBlockNumber());
    status.head = head;
    const target = head - confirmations;
    const from = checkpoint ? checkpoint.number + 1 : startBlock;
    if (from > target) {
      if (checkpoint && !(await isCanonical(checkpoint))) {
        await handleReorg();
        return 'reorg';
      }
      await fetchManifests();
      return 'idle';
    }
    const to = Math.min(from + pageSize - 1, target);
    // Read `to` before and after the logs: if it is the same block both times, the logs are of
    // that chain. The checkpoint is checked after the first read, so it is `to`'s ancestor.
    const last = await header(to);
    if (!last) return 'retry';
    if (checkpoint && !(await isCanonical(checkpoint))) {
      await handleReorg();
      return 'reorg';
    }
    let events: Array<ChainEvent & { blockHash: Hex }>;
    try {
      events = (await fetchLogs(from, to)) as Array<ChainEvent & { blockHash: Hex }>;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (to > from && RANGE_ERROR.test(message)) {
        pageSize = Math.max(1, Math.floor((to - from + 1) / 2));
        log.warn({ from, to, pageSize }, 'the RPC refused the log range: smaller pages');
        return 'retry';
      }
      throw err;
    }
    // One header per block with events (timestamps), fetched once, batched.
    const numbers = [...new Set(events.map((e) => e.blockNumber))].filter((n) => n !== to);
    const headers = new Map<number, BlockRef>([[to, last]]);
    const fetched = await Promise.all(numbers.map((n) => header(n)));
    numbers.forEach((n, i) => fetched[i] && headers.set(n, fetched[i]));
    for (const e of events) {
      const h = headers.get(e.blockNumber);
      if (!h || h.hash !== e.blockHash.toLowerCase()) return 'retry';
      e.blockTimestamp = BigInt(h.timestamp);
    }
    if ((await header(to))?.hash !== last.hash) return 'retry';

    let write;
    try {
      write = await buildPage(events, last, [...headers.values()]);
      await store.commitPage(write);
    } catch (cause) {
      status.hasIndexingErrors = true;
      throw new IndexerError('HANDLER_FAILED', `Indexing blocks ${from}-${to} failed: ${String(cause)}`, { cause });
    }
    status.hasIndexingErrors = false;
    status.pages += 1;
    status.events += events.length;
    if (pageSize < maxPageSize) pageSize = Math.min(maxPageSize, pageSize * 2);
    setCheckpoint(last);
    log.debug({ from, to, events: events.length, head }, 'page indexed');
    await fetchManifests();
    return 'page';
  }

  /**
   * Fetches due manifests and writes their RecordVersions (see the file header). Never throws for
   * a blob store problem: the manifest is retried later and the chain keeps being followed.
   */
  async function fetchManifests(): Promise<void> {
    if (!blobs || !anchor) return;
    const due = await store.dueManifests(Date.now(), MANIFESTS_PER_STEP);
    for (const pending of due) {
      const cid = manifestCid(pending.manifest as Hex);
      let bytes: Uint8Array;
      try {
        bytes = await withTimeout(blobs.get(cid), manifestTimeoutMs, `reading ${cid} from the blob store`);
      } catch (err) {
        await deferManifest(pending, cid, err);
        continue;
      }
      let versions;
      try {
        versions = recordVersionsOf(pending, bytes);
      } catch (err) {
        if (!(err instanceof ConsentryError) || err.code !== 'MANIFEST_INVALID') throw err;
        // Content-addressed: these bytes will never change, so this batch never gets versions.
        log.warn({ batch: pending.batch, cid, err: err.message }, 'invalid batch manifest: the batch is indexed without record versions');
        if (await store.completeManifest(pending.batch, [])) status.manifestsInvalid += 1;
        continue;
      }
      if (await store.completeManifest(pending.batch, versions)) {
        status.manifestsFetched += 1;
        log.debug({ batch: pending.batch, versions: versions.length }, 'batch manifest indexed');
      }
    }
  }

  function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IndexerError('BLOB_STORE_TIMEOUT', `${what} took more than ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  async function deferManifest(pending: PendingManifest, cid: string, err: unknown): Promise<void> {
    const attempts = pending.attempts + 1;
    const delay = Math.min(manifestRetryMs * 2 ** Math.min(attempts - 1, 20), MANIFEST_RETRY_MAX_MS);
    await store.deferManifest(pending.batch, attempts, Date.now() + delay);
    const code = err instanceof ConsentryError ? err.code : 'BLOB_STORE_FAILED';
    const message = err instanceof Error ? err.message : String(err);
    log.warn({ batch: pending.batch, cid, code, attempts, retryInMs: delay, err: message }, 'batch manifest not available: retrying later');
  }

  async function buildPage(events: ChainEvent[], last: BlockRef, blocks: BlockRef[]) {
    const wanted = new Map<MutableEntityName, Set<string>>();
    for (const e of events) {
      for (const [entity, id] of emitter.get(e.eventName)!.read(e)) {
        if (!wanted.has(entity)) wanted.set(entity, new Set());
        wanted.get(entity)!.add(id);
      }
    }
    const loaded: { [E in MutableEntityName]?: Awaited<ReturnType<typeof store.load<E>>> } = {};
    for (const entity of MUTABLE_ENTITIES) {
      const ids = wanted.get(entity);
      if (ids) (loaded as Record<string, unknown>)[entity] = await store.load(entity, [...ids]);
    }
    const ctx = new PageContext(wanted, loaded);
    for (const e of events) {
      ctx.enterBlock(e.blockNumber);
      emitter.get(e.eventName)!.handle(ctx, e);
    }
    // Keep the previous checkpoint too, so a reorg search always finds a block to fall back to.
    const pruneBelow = Math.min(last.number - reorgThreshold, checkpoint?.number ?? last.number);
    return ctx.toWrite(last, blocks.sort((a, b) => a.number - b.number), pruneBelow);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      let result: StepResult;
      try {
        result = await step();
        failures = 0;
        status.lastError = null;
      } catch (err) {
        failures += 1;
        const message = redact(err instanceof Error ? err.message : String(err));
        status.lastError = message;
        const code = err instanceof IndexerError ? err.code : 'RPC_FAILED';
        log.error({ code, err: message, failures }, 'indexing step failed; retrying');
        if (err instanceof IndexerError && err.code === 'CHAIN_ID_MISMATCH') identity = null;
        await sleep(Math.min(pollIntervalMs * 2 ** Math.min(failures, 5), 30_000));
        continue;
      }
      if (result === 'idle') await sleep(pollIntervalMs);
      // The chain moved under a page: give it a moment before reading again.
      else if (result === 'retry') await sleep(Math.min(pollIntervalMs, 100));
    }
  }

  return {
    start() {
      if (loop) return;
      if (syncing) throw new IndexerError('BUSY', 'syncToHead() is running');
      stopping = false;
      status.running = true;
      loop = run().finally(() => {
        status.running = false;
        loop = null;
      });
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
    async syncToHead() {
      if (loop || syncing) throw new IndexerError('BUSY', 'The indexer is already running');
      syncing = true;
      try {
        for (;;) {
          const result = await step();
          if (result === 'idle') return { ...status };
        }
      } finally {
        syncing = false;
      }
    },
    waitForBlock(blockNumber, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if ((checkpoint?.number ?? -1) >= blockNumber) {
            cleanup();
            resolve({ ...status });
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new IndexerError('TIMEOUT', `Block ${blockNumber} not indexed within ${timeoutMs} ms (at ${checkpoint?.number ?? 'none'})`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    status: () => ({ ...status }),
  };
}
