// The notifier: watches the index (GraphQL: the embedded indexer or The Graph, same queries) for
// new AccessEvents of patients who set a webhook, queues one delivery per event, and POSTs each as
// JSON signed with the patient's secret:
//   x-consentry-signature: sha256=<hex HMAC-SHA256(secret, body)>
// Bodies carry who asked, for what categories and purpose, and the transaction, never health data.
// Guardian changes and recoveries of the patient's account are AccessEvents too (RECOVERY_STARTED
// first of all: the patient has the recovery delay to cancel one they did not ask for).
// A failed delivery (no answer, timeout, non-2xx) is retried with exponential backoff up to
// maxAttempts, then marked failed; every attempt is recorded. Redirects are not followed.
// It only reads the index, in its own process: it can never hold up indexing.
import { createHmac } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { graphqlRequest } from '@consentry/sdk/graphql';
import { CATEGORIES } from '@consentry/sdk/records/categories';
import type { DeliveryRow, NotifyStore, WebhookRow } from './store.ts';

export type NotifierLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export type NotifierOptions = {
  store: NotifyStore;
  graphqlUrl: string;
  /** Pause between rounds, ms (default 1000). */
  pollIntervalMs?: number;
  /** Attempts per delivery before it is marked failed (default 8). */
  maxAttempts?: number;
  /** Delay before the first retry, doubling each time (default 5 s, at most maxRetryMs). */
  retryBaseMs?: number;
  maxRetryMs?: number;
  /** A receiver slower than this counts as down (default 5 s). */
  timeoutMs?: number;
  logger?: NotifierLogger;
  fetchImpl?: typeof fetch;
  now?: () => number;
};

/** What a receiver gets. `at` is the block time (ISO 8601). */
export type WebhookBody = {
  eventId: string;
  kind: string;
  patient: string;
  /**
   * The requester, grantee or emergency provider; for a recovery, the wallet it moves the account to
   * (RECOVERY_STARTED, ACCOUNT_RECOVERED), the approving guardian or who cancelled it; the zero address
   * when the event names none (subgraph/schema.graphql AccessEvent).
   */
  organization: string;
  actor: string;
  /** The request, or the recovery's nonce (RECOVERY_*, ACCOUNT_RECOVERED). */
  requestId: string | null;
  categories: string[] | null;
  purpose: number | null;
  /** Unix seconds: end of the approved grant or break-glass window; when a recovery may complete (RECOVERY_READY) or a guardian change apply. */
  expiresAt: string | null;
  transactionHash: string;
  blockNumber: string;
  at: string;
};

type AccessEventRow = {
  id: string;
  kind: string;
  patient: string;
  organization: string;
  actor: string;
  requestId: string | null;
  categories: number | null;
  purpose: number | null;
  expiresAt: string | null;
  blockNumber: string;
  blockTimestamp: string;
  transactionHash: string;
  logIndex: string;
};

export const SIGNATURE_HEADER = 'x-consentry-signature';

/** `sha256=<hex>`: what a receiver recomputes over the raw body with its secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const META_QUERY = `{ _meta { block { number } } }`;
const EVENTS_QUERY = `query NotifyEvents($patients: [Bytes!]!, $after: BigInt!, $upTo: BigInt!, $first: Int!, $skip: Int!) {
  accessEvents(where: { patient_in: $patients, blockNumber_gt: $after, blockNumber_lte: $upTo }, orderBy: blockNumber, orderDirection: asc, first: $first, skip: $skip) {
    id kind patient organization actor requestId categories purpose expiresAt blockNumber blockTimestamp transactionHash logIndex
  }
}`;
const PAGE = 1000;

export function webhookBody(e: AccessEventRow): WebhookBody {
  return {
    eventId: e.id,
    kind: e.kind,
    patient: e.patient,
    organization: e.organization,
    actor: e.actor,
    requestId: e.requestId,
    categories: e.categories === null ? null : CATEGORIES.filter((_, i) => (e.categories! & (1 << i)) !== 0),
    purpose: e.purpose,
    expiresAt: e.expiresAt,
    transactionHash: e.transactionHash,
    blockNumber: e.blockNumber,
    at: new Date(Number(e.blockTimestamp) * 1000).toISOString(),
  };
}

export interface Notifier {
  start(): void;
  stop(): Promise<void>;
  /** One round: queue new events, then attempt the due deliveries. */
  tick(): Promise<{ queued: number; delivered: number; failed: number }>;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const { store, graphqlUrl } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const maxAttempts = options.maxAttempts ?? 8;
  const retryBaseMs = options.retryBaseMs ?? 5000;
  const maxRetryMs = options.maxRetryMs ?? 60 * 60_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const log = options.logger ?? pino({ level: 'silent' });
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = options.now ?? Date.now;
  let loop: Promise<void> | null = null;
  let stopping = false;
  let wake: (() => void) | null = null;
  let indexDown = 0;

  /** Queues the events indexed since each webhook's cursor, up to the index's current block. */
  async function queueNew(): Promise<number> {
    const hooks = await store.webhooks();
    if (hooks.length === 0) return 0;
    const meta = await graphqlRequest<{ _meta: { block: { number: number } } | null }>(graphqlUrl, META_QUERY);
    const upTo = meta._meta?.block.number ?? 0;
    const behind = hooks.filter((h) => h.cursorBlock < upTo);
    if (behind.length === 0) return 0;
    // One query for every patient behind, from the lowest cursor; each event is then kept only for
    // a webhook whose cursor is below its block.
    const after = Math.min(...behind.map((h) => h.cursorBlock));
    const byPatient = new Map<string, WebhookRow>(behind.map((h) => [h.patient, h]));
    const events: AccessEventRow[] = [];
    for (let skip = 0; ; skip += PAGE) {
      const page = await graphqlRequest<{ accessEvents: AccessEventRow[] }>(graphqlUrl, EVENTS_QUERY, {
        patients: [...byPatient.keys()],
        after: String(after),
        upTo: String(upTo),
        first: PAGE,
        skip,
      });
      events.push(...page.accessEvents);
      if (page.accessEvents.length < PAGE) break;
    }
    const deliveries = events
      .filter((e) => Number(e.blockNumber) > byPatient.get(e.patient)!.cursorBlock)
      .sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex))
      .map((e) => ({ patient: e.patient, eventId: e.id, kind: e.kind, body: JSON.stringify(webhookBody(e)) }));
    await store.enqueue(deliveries, behind.map((h) => ({ patient: h.patient, block: upTo })), now());
    if (deliveries.length > 0) log.debug({ queued: deliveries.length, upTo }, 'notifications queued');
    return deliveries.length;
  }

  async function attempt(d: DeliveryRow, hook: WebhookRow): Promise<boolean> {
    const attempts = d.attempts + 1;
    let failure: { status: number | null; error: string };
    try {
      const res = await fetchImpl(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'consentry-notifier',
          [SIGNATURE_HEADER]: signBody(hook.secret, d.body),
          'x-consentry-event': d.kind,
          'x-consentry-delivery': d.id,
        },
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        await store.markDelivered(d.id, attempts, res.status, now());
        return true;
      }
      failure = { status: res.status, error: `The receiver answered ${res.status}` };
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      failure = { status: null, error: timedOut ? `No answer within ${timeoutMs} ms` : 'The receiver is unreachable' };
    }
    const giveUp = attempts >= maxAttempts;
    const delay = Math.min(retryBaseMs * 2 ** (attempts - 1), maxRetryMs);
    await store.markAttemptFailed(d.id, attempts, failure, now() + delay, giveUp);
    // The URL's origin only: a path or query may hold the receiver's own token.
    const origin = new URL(hook.url).origin;
    log.warn({ delivery: d.id, kind: d.kind, receiver: origin, attempts, ...(giveUp ? {} : { retryInMs: delay }) }, giveUp ? `webhook delivery failed for good: ${failure.error}` : `webhook delivery failed, retrying: ${failure.error}`);
    return false;
  }

  async function deliverDue(): Promise<{ delivered: number; failed: number }> {
    const due = await store.dueDeliveries(now(), 50);
    if (due.length === 0) return { delivered: 0, failed: 0 };
    const hooks = new Map((await store.webhooks()).map((h) => [h.patient, h]));
    const orphaned = due.filter((d) => !hooks.has(d.patient)).map((d) => d.id);
    await store.cancel(orphaned);
    const results = await Promise.all(due.filter((d) => hooks.has(d.patient)).map((d) => attempt(d, hooks.get(d.patient)!)));
    return { delivered: results.filter(Boolean).length, failed: results.filter((r) => !r).length };
  }

  async function tick() {
    let queued = 0;
    try {
      queued = await queueNew();
      if (indexDown > 0) log.info('the index answers again');
      indexDown = 0;
    } catch (err) {
      indexDown += 1;
      // Deliveries already queued still go out while the index is away.
      if (indexDown === 1 || indexDown % 30 === 0) log.warn({ failures: indexDown }, `cannot read new access events: ${err instanceof Error ? err.message : String(err)}`);
    }
    const { delivered, failed } = await deliverDue();
    return { queued, delivered, failed };
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

  return {
    start() {
      if (loop) return;
      stopping = false;
      loop = (async () => {
        while (!stopping) {
          try {
            await tick();
          } catch (err) {
            log.error({ err: err instanceof Error ? err.message : String(err) }, 'notifier round failed; retrying');
          }
          if (!stopping) await sleep(pollIntervalMs);
        }
      })().finally(() => {
        loop = null;
      });
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
    tick,
  };
}
