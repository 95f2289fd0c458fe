// drizzle-kit configuration for the notifier's migrations (webhooks and deliveries; separate from
// the indexer's, so a re-index never touches them, and from the vault's). Both dialects:
//   DRIZZLE_DIALECT=sqlite     drizzle-kit generate --config drizzle.notify.config.ts
//   DRIZZLE_DIALECT=postgresql drizzle-kit generate --config drizzle.notify.config.ts
// (`npm run db:generate:notify -w @consentry/workers` runs them). Output: drizzle/notify-<dialect>/, committed.
import { defineConfig } from 'drizzle-kit';

const dialect = process.env.DRIZZLE_DIALECT === 'postgresql' ? 'postgresql' : 'sqlite';

export default defineConfig(
  dialect === 'postgresql'
    ? { dialect, schema: './src/db/schema/pg/notify.ts', out: './drizzle/notify-postgresql' }
    : { dialect, schema: './src/db/schema/sqlite/notify.ts', out: './drizzle/notify-sqlite' },
);
