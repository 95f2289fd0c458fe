// drizzle-kit configuration for the indexer's migrations. One config serves both dialects:
//   DRIZZLE_DIALECT=sqlite     npx drizzle-kit generate --config drizzle.config.ts
//   DRIZZLE_DIALECT=postgresql npx drizzle-kit generate --config drizzle.config.ts
// (`npm run db:generate -w workers` runs both). Output: drizzle/<dialect>/, committed.
import { defineConfig } from 'drizzle-kit';

const dialect = process.env.DRIZZLE_DIALECT === 'postgresql' ? 'postgresql' : 'sqlite';

export default defineConfig(
  dialect === 'postgresql'
    ? { dialect, schema: './src/db/schema/pg/index.ts', out: './drizzle/postgresql' }
    : { dialect, schema: './src/db/schema/sqlite/index.ts', out: './drizzle/sqlite' },
);
