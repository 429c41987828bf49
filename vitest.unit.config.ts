import { defineConfig } from 'vitest/config';

/** Unit tests only (no Temporal, no PostgreSQL): `npx vitest run --config vitest.unit.config.ts`. */
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/unit/**/*.test.ts', 'test/connectors/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
