import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The whole suite, against one real Temporal dev server and one real PostgreSQL started by the
 * global setup. Each test file gets its own database (from a migrated template) and task queue.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['./test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // A real Temporal cluster, not the dev server: `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
