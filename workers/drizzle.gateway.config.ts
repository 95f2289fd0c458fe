// drizzle-kit configuration for the release gateways' logs (SQLite, one file per gateway):
//   drizzle-kit generate --config drizzle.gateway.config.ts   (npm run db:generate:gateway -w @consentry/workers)
import { defineConfig } from 'drizzle-kit';

export default defineConfig({ dialect: 'sqlite', schema: './src/db/schema/sqlite/gateway.ts', out: './drizzle/gateway-sqlite' });
