import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Browser journeys across the running stack (anvil, indexer, built web app, Chromium).
// Run with `npx vitest run --config e2e/vitest.config.ts`; the web app must be built first
// (`npm run build -w @consentry/web`; `npm test` does it).
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Each file brings up its own stack and browser; one at a time keeps 2 cores responsive.
    fileParallelism: false,
    setupFiles: ['./sdk/src/polyfills.ts'],
  },
});
