// drizzle-kit configuration for the record vault's migrations (separate from the indexer's, so the
// two can share one PostgreSQL database and evolve apart). Both dialects:
//   DRIZZLE_DIALECT=sqlite     drizzle-kit generate --config drizzle.vault.config.ts
//   DRIZZLE_DIALECT=postgresql drizzle-kit generate --config drizzle.vault.config.ts
// (`npm run db:generate -w @consentry/workers` runs them). Output: drizzle/vault-<dialect>/, committed.
import { defineConfig } from 'drizzle-kit';

const dialect = process.env.DRIZZLE_DIALECT === 'postgresql' ? 'postgresql' : 'sqlite';

export default defineConfig(
  dialect === 'postgresql'
    ? { dialect, schema: './src/db/schema/pg/records.ts', out: './drizzle/vault-postgresql' }
    : { dialect, schema: './src/db/schema/sqlite/records.ts', out: './drizzle/vault-sqlite' },
);
