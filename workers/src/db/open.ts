// Chooses the database: PostgreSQL when DATABASE_URL is set, PGlite when asked for, otherwise the
// embedded default, a SQLite file under DATA_DIR.
import { join } from 'node:path';
import { PgStore } from './pg-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export { PgStore, SqliteStore };
export type { Store };

export type StoreOptions = {
  /** postgres:// URL: use that server. */
  databaseUrl?: string;
  /** PostgreSQL schema for the tables (optional; see PgStore.openPostgres). */
  databaseSchema?: string;
  /** Use PGlite persisted in this directory (ignored when databaseUrl is set). */
  pgliteDir?: string;
  /** Where the SQLite file goes otherwise: `<dataDir>/indexer.sqlite`. */
  dataDir: string;
};

export const SQLITE_FILE = 'indexer.sqlite';

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    return PgStore.openPostgres(
      options.databaseUrl,
      options.databaseSchema ? { schema: options.databaseSchema } : {},
    );
  }
  if (options.pgliteDir) return PgStore.openPglite(options.pgliteDir);
  return SqliteStore.open(join(options.dataDir, SQLITE_FILE));
}

export const openSqliteStore = (file: string): Promise<Store> => Promise.resolve(SqliteStore.open(file));
export const openPgliteStore = (dataDir?: string): Promise<Store> => PgStore.openPglite(dataDir);
export const openPostgresStore = (url: string, schema?: string): Promise<Store> =>
  PgStore.openPostgres(url, schema ? { schema } : {});
