import { defineConfig } from 'vitest/config';

// Unit and integration tests across the workspaces. Browser journeys live in e2e/ (own config).
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'e2e/**', 'web/build/**', 'subgraph/build/**', 'subgraph/generated/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['./sdk/src/polyfills.ts'],
  },
});
