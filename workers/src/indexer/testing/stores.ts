// The databases every indexer test suite runs against: a SQLite temp file, PGlite in memory, and
// a real PostgreSQL server when TEST_DATABASE_URL is set (CI sets it). Each store is fresh.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { getTableName, type Table } from 'drizzle-orm';
import pg from 'pg';
import * as pgTables from '../../db/schema/pg/index.ts';
import { openStore } from '../../db/open.ts';
import { PgStore } from '../../db/pg-store.ts';
import { SqliteStore } from '../../db/sqlite-store.ts';
import type { Store } from '../../db/store.ts';

export type StoreKind = {
  name: 'sqlite' | 'pglite' | 'postgres';
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Environment for main.ts to open the same kind of store (fresh each call). */
  childEnv(): Promise<Record<string, string>>;
  /** Removes what open()/childEnv() created. */
  cleanup(): Promise<void>;
};

const ALL_TABLES = Object.values(pgTables as Record<string, Table>).map((t) => `"${getTableName(t)}"`);

function tempDirs() {
  const dirs: string[] = [];
  return {
    make(prefix: string): string {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    remove(): void {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

function sqliteKind(): StoreKind {
  const dirs = tempDirs();
  return {
    name: 'sqlite',
    open: async () => SqliteStore.open(join(dirs.make('consentry-sqlite-'), 'indexer.sqlite')),
    childEnv: async () => ({ DATA_DIR: dirs.make('consentry-data-') }),
    cleanup: async () => dirs.remove(),
  };
}

/**
 * PGlite instances take seconds to start, so they are reused: a store handed out is emptied
 * first, and closing it gives its instance back for the next open().
 */
function pgliteKind(): StoreKind {
  const dirs = tempDirs();
  const idle: PGlite[] = [];
  const all: PGlite[] = [];
  return {
    name: 'pglite',
    async open() {
      let client = idle.pop();
      if (!client) {
        client = new PGlite();
        all.push(client);
      }
      const store = await PgStore.fromPglite(client);
      await client.exec(`TRUNCATE ${ALL_TABLES.join(', ')}`);
      const instance = client;
      const close = store.close.bind(store);
      return Object.assign(store, {
        async close() {
          await close();
          if (!idle.includes(instance)) idle.push(instance);
        },
      });
    },
    childEnv: async () => ({ DATA_DIR: dirs.make('consentry-data-'), INDEXER_PGLITE_DIR: dirs.make('consentry-pglite-') }),
    async cleanup() {
      dirs.remove();
      for (const c of all.splice(0)) await c.close();
      idle.length = 0;
    },
  };
}

/** Drops test schemas (and everything in them) from a PostgreSQL server. */
export async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}

function postgresKind(url: string): StoreKind {
  const schemas: string[] = [];
  const dirs = tempDirs();
  const fresh = () => {
    const schema = `test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  };
  return {
    name: 'postgres',
    open: () => PgStore.openPostgres(url, { schema: fresh() }),
    childEnv: async () => ({ DATA_DIR: dirs.make('consentry-data-'), DATABASE_URL: url, INDEXER_DATABASE_SCHEMA: fresh() }),
    async cleanup() {
      dirs.remove();
      await dropSchemas(url, schemas.splice(0));
    },
  };
}

/** Opens the store that main.ts opens with `env` (from childEnv()). */
export function openFromEnv(env: Record<string, string>): Promise<Store> {
  return openStore({
    dataDir: env.DATA_DIR!,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.INDEXER_DATABASE_SCHEMA ? { databaseSchema: env.INDEXER_DATABASE_SCHEMA } : {}),
    ...(env.INDEXER_PGLITE_DIR ? { pgliteDir: env.INDEXER_PGLITE_DIR } : {}),
  });
}

export function storeKinds(): StoreKind[] {
  const kinds = [sqliteKind(), pgliteKind()];
  const url = process.env.TEST_DATABASE_URL;
  if (url) kinds.push(postgresKind(url));
  return kinds;
}
