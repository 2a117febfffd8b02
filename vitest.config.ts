import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Crypto-heavy suites each take a core; two cores on CI machines.
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
