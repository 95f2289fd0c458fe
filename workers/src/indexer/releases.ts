// The release follower: reads every committee gateway's public log (GET <gateway>/log?after&limit,
// see workers/src/gateway/server.ts) into the indexer's Release entities, so a patient can ask the
// index "who saw my records" and check each entry against the roots the gateways posted on chain.
//
// Per gateway (independently: one that is down never holds up the others):
// - the cursor (release_cursor, keyed by the configured URL) remembers the member it serves and the
//   highest seq stored;
// - each round re-reads from the member's lowest seq still without a root (entries come back with
//   batchRoot and proof once the gateway posts their batch), else from the cursor, page by page, and
//   upserts the entries and the cursor in one transaction;
// - a failure (down, timeout, malformed answer) is logged and retried with exponential backoff
//   (pollIntervalMs doubling, at most maxBackoffMs).
// Releases are off chain: the chain indexer's re-index and reorg handling never touch them.
import { isAddress } from 'viem';
import { pino } from 'pino';
import { z } from 'zod';
import type { EntityRows, Store } from '../db/store.ts';
import { IndexerError } from './errors.ts';
import type { IndexerLogger } from './indexer.ts';

export type ReleaseFollowerOptions = {
  store: Store;
  /** Gateway base URLs (GATEWAY_URLS). */
  gateways: readonly string[];
  /** Pause between rounds when a gateway has nothing new, ms (default 2000). */
  pollIntervalMs?: number;
  /** Entries per request (default 500, at most 1000 as the gateways allow). */
  pageSize?: number;
  /** Longest pause after repeated failures, ms (default 60 s). */
  maxBackoffMs?: number;
  /** A gateway slower than this counts as down, ms (default 10 s). */
  timeoutMs?: number;
  logger?: IndexerLogger;
  fetchImpl?: typeof fetch;
  now?: () => number;
};

export type GatewayFollowStatus = {
  gateway: string;
  member: string | null;
  lastSeq: number | null;
  /** Consecutive failed rounds; 0 when the last round succeeded. */
  failures: number;
  lastError: string | null;
  /** Unix ms of the last successful round. */
  lastSyncAt: number | null;
};

export interface ReleaseFollower {
  /** Follows every gateway in the background until stop(). */
  start(): void;
  stop(): Promise<void>;
  /** One round over every gateway (not while started): what tests and tools call. */
  syncOnce(): Promise<GatewayFollowStatus[]>;
  status(): GatewayFollowStatus[];
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const address = z.string().refine((a) => isAddress(a, { strict: false }), 'not an address');
const feedEntry = z.object({
  seq: z.number().int().min(1),
  id: hex32,
  requester: address,
  patient: address,
  recordId: hex32,
  version: z.number().int().min(1).max(0xffffffff),
  category: z.string().min(1).max(64),
  purpose: z.number().int().min(0).max(255),
  releasedAt: z.number().int().min(0),
  batchRoot: hex32.nullable(),
  proof: z.array(hex32).max(64).nullable(),
});
const feedPage = z.object({ member: address, entries: z.array(feedEntry), next: z.number().int().min(0) });
export type FeedEntry = z.infer<typeof feedEntry>;

/** Release id: the member's 20 bytes then the seq as a big-endian uint64, lowercase hex. */
export function releaseId(member: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq ${seq} is not a whole number`);
  return `${member.toLowerCase()}${seq.toString(16).padStart(16, '0')}`;
}

export function releaseRow(member: string, e: FeedEntry): EntityRows['Release'] {
  const rooted = e.batchRoot !== null && e.proof !== null;
  return {
    id: releaseId(member, e.seq),
    member: member.toLowerCase(),
    seq: BigInt(e.seq),
    entryId: e.id.toLowerCase(),
    requester: e.requester.toLowerCase(),
    patient: e.patient.toLowerCase(),
    recordId: e.recordId.toLowerCase(),
    version: e.version,
    category: e.category,
    purpose: e.purpose,
    releasedAt: BigInt(e.releasedAt),
    batchRoot: rooted ? e.batchRoot!.toLowerCase() : null,
    proof: rooted ? e.proof!.map((p) => p.toLowerCase()) : null,
  };
}

/** scheme://host:port only, for logs. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparseable URL)';
  }
}

export function createReleaseFollower(options: ReleaseFollowerOptions): ReleaseFollower {
  const { store } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const pageSize = options.pageSize ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.logger ?? pino({ level: 'silent' });
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new RangeError('pageSize must be from 1 to 1000');
  for (const g of options.gateways) {
    if (!/^https?:\/\//.test(g)) throw new IndexerError('CONFIG_INVALID', `Gateway URL ${JSON.stringify(g)} is not an http(s) URL (GATEWAY_URLS)`);
  }
  const gateways = [...new Set(options.gateways.map((g) => g.replace(/\/+$/, '')))];
  const states = new Map<string, GatewayFollowStatus>(
    gateways.map((g) => [g, { gateway: g, member: null, lastSeq: null, failures: 0, lastError: null, lastSyncAt: null }]),
  );
  let stopping = false;
  let loops: Promise<void>[] = [];
  const wakers = new Set<() => void>();

  async function fetchPage(gateway: string, after: number): Promise<z.infer<typeof feedPage>> {
    const url = `${gateway}/log?after=${after}&limit=${pageSize}`;
    let res: Response;
    try {
      res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      const reason = cause instanceof Error && cause.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'unreachable';
      throw new IndexerError('GATEWAY_UNREACHABLE', `The gateway at ${origin(gateway)} is ${reason}`, { cause });
    }
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
      throw new IndexerError('GATEWAY_REFUSED', `The gateway at ${origin(gateway)} answered ${res.status} to GET /log${typeof message === 'string' ? `: ${message}` : ''}`);
    }
    const parsed = feedPage.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new IndexerError('GATEWAY_FEED_INVALID', `The gateway at ${origin(gateway)} sent a malformed log page (${issue.path.join('.') || 'body'}: ${issue.message})`);
    }
    return parsed.data;
  }

  /** Where to read a member's log from: its lowest entry still without a root, else after the cursor. */
  async function startAfter(member: string, lastSeq: number | null): Promise<number> {
    const seqs = await store.releaseSeqs(member);
    const last = lastSeq ?? seqs.last ?? 0;
    return seqs.firstUnrooted !== null ? Math.min(seqs.firstUnrooted - 1, last) : last;
  }

  /** Reads one gateway up to the end of its log. */
  async function follow(gateway: string): Promise<number> {
    const state = states.get(gateway)!;
    const cursor = await store.releaseCursor(gateway);
    let member = cursor?.member ?? null;
    let lastSeq = cursor?.lastSeq ?? null;
    let after = member ? await startAfter(member, lastSeq) : 0;
    let stored = 0;
    for (;;) {
      const page = await fetchPage(gateway, after);
      const served = page.member.toLowerCase();
      if (member !== served) {
        if (member !== null) log.warn({ gateway: origin(gateway), was: member, now: served }, 'the gateway now serves another committee member: following its log');
        member = served;
        lastSeq = null;
        const from = await startAfter(member, null);
        if (from !== after) {
          after = from;
          continue;
        }
      }
      const rows = page.entries.map((e) => releaseRow(served, e));
      for (const e of page.entries) lastSeq = Math.max(lastSeq ?? 0, e.seq);
      await store.saveReleases({ gateway, member: served, lastSeq: lastSeq ?? 0, updatedAt: now() }, rows);
      stored += rows.length;
      state.member = served;
      state.lastSeq = lastSeq;
      if (page.entries.length < pageSize || page.next <= after) return stored;
      after = page.next;
    }
  }

  async function round(gateway: string): Promise<void> {
    const state = states.get(gateway)!;
    try {
      const stored = await follow(gateway);
      if (state.failures > 0) log.info({ gateway: origin(gateway), after: state.failures }, 'gateway log reachable again');
      state.failures = 0;
      state.lastError = null;
      state.lastSyncAt = now();
      if (stored > 0) log.debug({ gateway: origin(gateway), stored, lastSeq: state.lastSeq }, 'releases indexed');
    } catch (err) {
      state.failures += 1;
      state.lastError = err instanceof Error ? err.message : String(err);
      const code = err instanceof IndexerError ? err.code : 'RELEASE_FOLLOW_FAILED';
      log.warn({ gateway: origin(gateway), code, failures: state.failures, retryInMs: delayFor(state) }, `release log not read: ${state.lastError}`);
    }
  }

  const delayFor = (s: GatewayFollowStatus) => (s.failures === 0 ? pollIntervalMs : Math.min(pollIntervalMs * 2 ** Math.min(s.failures, 16), maxBackoffMs));

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });
  }

  async function run(gateway: string): Promise<void> {
    while (!stopping) {
      await round(gateway);
      if (!stopping) await sleep(delayFor(states.get(gateway)!));
    }
  }

  const snapshot = () => gateways.map((g) => ({ ...states.get(g)! }));

  return {
    start() {
      if (loops.length > 0) return;
      stopping = false;
      loops = gateways.map((g) => run(g));
      log.info({ gateways: gateways.map(origin) }, 'following the gateways\' release logs');
    },
    async stop() {
      stopping = true;
      for (const w of [...wakers]) w();
      await Promise.all(loops);
      loops = [];
    },
    async syncOnce() {
      if (loops.length > 0) throw new IndexerError('BUSY', 'The release follower is running');
      await Promise.all(gateways.map((g) => round(g)));
      return snapshot();
    },
    status: snapshot,
  };
}

/** GATEWAY_URLS: comma-separated, blanks ignored. */
export function parseGatewayUrls(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
