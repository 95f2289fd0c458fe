// The indexer service: `npm run indexer -w workers` (or started by `npm start`).
// Reads the configuration, checks the chain, opens the database (SQLite under DATA_DIR, or
// PostgreSQL when DATABASE_URL is set) and the blob store batch manifests are read from
// (BLOB_STORE, see sdk/src/blobs/from-env.ts), follows the chain and serves GraphQL on
// 127.0.0.1:INDEXER_PORT/graphql, with GET /health. SIGINT/SIGTERM finish the current page and
// close the database.
//
// Besides the shared configuration (sdk/src/config.ts) it reads, all optional:
//   INDEXER_PAGE_SIZE        blocks per getLogs page (1000)
//   INDEXER_POLL_MS          pause when caught up, ms (1000)
//   INDEXER_REORG_THRESHOLD  deepest reorg rolled back block by block (250)
//   INDEXER_DATABASE_SCHEMA  PostgreSQL schema for the tables (with DATABASE_URL)
//   INDEXER_PGLITE_DIR       use PGlite (in-process PostgreSQL) in this directory instead of SQLite
import { pathToFileURL } from 'node:url';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { assertChain } from '@consentry/sdk/clients';
import { loadConfig } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConfigError, ConsentryError } from '@consentry/sdk/errors';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { openStore } from '../db/open.ts';
import type { Store } from '../db/store.ts';
import { loadEntityModels } from './entities.ts';
import { buildGraphQLSchema } from './graphql/schema.ts';
import { startGraphQLServer, type GraphQLServer } from './graphql/server.ts';
import { createIndexer, type Indexer } from './indexer.ts';

const indexerEnv = z.object({
  INDEXER_PAGE_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  INDEXER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  INDEXER_REORG_THRESHOLD: z.coerce.number().int().min(1).max(100_000).default(250),
  INDEXER_DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase PostgreSQL identifier')
    .optional(),
  INDEXER_PGLITE_DIR: z.string().min(1).optional(),
});

export type IndexerService = { indexer: Indexer; server: GraphQLServer; store: Store; stop(): Promise<void> };

/** Starts the indexer and its GraphQL server from the environment. */
export async function startIndexerService(
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<IndexerService> {
  const config = loadConfig(env);
  const parsed = indexerEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    throw new ConfigError(
      `Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  const extra = parsed.data;
  const { models } = loadEntityModels();
  const deployment = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR);
  // Its errors name the RPC by origin only: a URL's path or query may hold an API key.
  await assertChain(config.RPC_URL, config.CHAIN_ID);
  const blobs = await blobStoreFromEnv({ DATA_DIR: config.DATA_DIR, ...env });

  const store = await openStore({
    ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}),
    ...(extra.INDEXER_DATABASE_SCHEMA ? { databaseSchema: extra.INDEXER_DATABASE_SCHEMA } : {}),
    ...(extra.INDEXER_PGLITE_DIR ? { pgliteDir: extra.INDEXER_PGLITE_DIR } : {}),
    dataDir: config.DATA_DIR,
  });
  const indexer = createIndexer({
    rpcUrl: config.RPC_URL,
    deployment,
    store,
    confirmations: config.CONFIRMATIONS,
    pageSize: extra.INDEXER_PAGE_SIZE,
    pollIntervalMs: extra.INDEXER_POLL_MS,
    reorgThreshold: extra.INDEXER_REORG_THRESHOLD,
    logger,
    blobs,
  });
  const contract = deployment.contracts.PatientRegistry.address.toLowerCase();
  const schema = buildGraphQLSchema({
    models,
    store,
    meta: () => {
      const s = indexer.status();
      return { checkpoint: s.checkpoint, hasIndexingErrors: s.hasIndexingErrors, deployment: contract };
    },
  });
  let server: GraphQLServer;
  try {
    server = await startGraphQLServer({
      schema,
      port: config.INDEXER_PORT,
      logger,
      health: () => {
        const s = indexer.status();
        return {
          status: s.lastError ? 'degraded' : 'ok',
          checkpoint: s.checkpoint && { number: s.checkpoint.number, hash: s.checkpoint.hash },
          head: s.head,
          lagBlocks: s.head !== null && s.checkpoint ? Math.max(0, s.head - s.checkpoint.number) : null,
          confirmations: config.CONFIRMATIONS,
          hasIndexingErrors: s.hasIndexingErrors,
          lastError: s.lastError,
          store: store.dialect,
        };
      },
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  indexer.start();
  logger.info(
    { url: server.url, port: server.port, chainId: config.CHAIN_ID, store: store.location, confirmations: config.CONFIRMATIONS },
    'indexer listening',
  );
  return {
    indexer,
    server,
    store,
    async stop() {
      await indexer.stop();
      await server.close();
      await store.close();
    },
  };
}

async function main(): Promise<void> {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  // An invalid LOG_LEVEL is reported by loadConfig; until then, log at info.
  const level = levels.includes(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL! : 'info';
  const logger = pino({ name: 'indexer', level });
  let service: IndexerService;
  try {
    service = await startIndexerService(process.env, logger);
  } catch (err) {
    const code = err instanceof ConsentryError ? err.code : 'START_FAILED';
    logger.fatal({ code }, err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: finishing the current page');
    service.stop().then(
      () => {
        logger.info('indexer stopped');
        process.exit(0);
      },
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
