import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the production path on a real Temporal server (built from source,
 * PostgreSQL persistence and visibility, several history shards), not the dev server. Kept out
 * of `npm test`, which runs against the dev server.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['./test/cluster/global-setup.ts'],
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
  },
});
