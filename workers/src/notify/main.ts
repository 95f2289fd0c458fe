// The access-log worker: `npm run notify -w workers` (started by `npm start` once the gateways are
// up). Two jobs, each in its own loop so neither waits for the other:
// - the release follower (workers/src/indexer/releases.ts): reads every gateway of GATEWAY_URLS into
//   the embedded indexer's database (SQLite under DATA_DIR, or DATABASE_URL with
//   INDEXER_DATABASE_SCHEMA), where the indexer's GraphQL serves it as Release entities;
// - the notifier (./notifier.ts): delivers patients' webhooks for new AccessEvents read from the
//   index (config.graphqlUrl: the embedded indexer or SUBGRAPH_URL).
// It runs apart from the indexer so the stack can start it after the gateways, and so delivering
// webhooks never competes with indexing. SIGINT/SIGTERM finish the current round.
//
// Besides the shared configuration (sdk/src/config.ts) it reads, all optional:
//   GATEWAY_URLS            comma-separated gateway URLs (none: no release following)
//   RELEASE_POLL_MS         pause between reads of a gateway's log (2000)
//   NOTIFY_POLL_MS          pause between notifier rounds (1000)
//   NOTIFY_MAX_ATTEMPTS     attempts per delivery before it is marked failed (8)
//   NOTIFY_RETRY_MS         first retry delay, doubling, at most an hour (5000)
//   NOTIFY_DATABASE_SCHEMA  PostgreSQL schema of the notifier's tables (with DATABASE_URL)
import { pathToFileURL } from 'node:url';
import { loadConfig } from '@consentry/sdk/config';
import { ConfigError, ConsentryError } from '@consentry/sdk/errors';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { openStore } from '../db/open.ts';
import type { Store } from '../db/store.ts';
import { createReleaseFollower, parseGatewayUrls, type ReleaseFollower } from '../indexer/releases.ts';
import { createNotifier, type Notifier } from './notifier.ts';
import { NotifyStore, notifyOptionsFor } from './store.ts';

const workerEnv = z.object({
  RELEASE_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(2000),
  NOTIFY_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  NOTIFY_RETRY_MS: z.coerce.number().int().min(10).max(3_600_000).default(5000),
  INDEXER_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase PostgreSQL identifier').optional(),
  INDEXER_PGLITE_DIR: z.string().min(1).optional(),
});

export type AccessLogWorker = { follower: ReleaseFollower | null; notifier: Notifier; stop(): Promise<void> };

export async function startAccessLogWorker(env: Record<string, string | undefined>, logger: Logger): Promise<AccessLogWorker> {
  const config = loadConfig(env);
  const parsed = workerEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const extra = parsed.data;
  const gateways = parseGatewayUrls(env.GATEWAY_URLS);
  let indexStore: Store | null = null;
  let follower: ReleaseFollower | null = null;
  if (gateways.length > 0) {
    if (extra.INDEXER_PGLITE_DIR) {
      throw new ConfigError('The release follower cannot share a PGlite directory with the indexer (INDEXER_PGLITE_DIR): use SQLite or DATABASE_URL');
    }
    indexStore = await openStore({
      ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}),
      ...(extra.INDEXER_DATABASE_SCHEMA ? { databaseSchema: extra.INDEXER_DATABASE_SCHEMA } : {}),
      dataDir: config.DATA_DIR,
    });
    follower = createReleaseFollower({ store: indexStore, gateways, pollIntervalMs: extra.RELEASE_POLL_MS, logger: logger.child({ job: 'releases' }) });
  } else {
    logger.warn('GATEWAY_URLS is empty: releases are not followed');
  }
  const notifyStore = await NotifyStore.open(notifyOptionsFor(config, env));
  const notifier = createNotifier({
    store: notifyStore,
    graphqlUrl: config.graphqlUrl,
    pollIntervalMs: extra.NOTIFY_POLL_MS,
    maxAttempts: extra.NOTIFY_MAX_ATTEMPTS,
    retryBaseMs: extra.NOTIFY_RETRY_MS,
    logger: logger.child({ job: 'notify' }),
  });
  follower?.start();
  notifier.start();
  logger.info({ gateways: gateways.length, index: new URL(config.graphqlUrl).origin, store: notifyStore.location }, 'access-log worker running');
  return {
    follower,
    notifier,
    async stop() {
      await Promise.all([follower?.stop(), notifier.stop()]);
      await indexStore?.close();
      await notifyStore.close();
    },
  };
}

async function main(): Promise<void> {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const level = levels.includes(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL! : 'info';
  const logger = pino({ name: 'access-log', level });
  let worker: AccessLogWorker;
  try {
    worker = await startAccessLogWorker(process.env, logger);
  } catch (err) {
    logger.fatal({ code: err instanceof ConsentryError ? err.code : 'START_FAILED' }, err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
