import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once: the tests of the package, `npm start` and the bin run the compiled server.
    globalSetup: ['./test/support/build.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Crypto-heavy suites each take a core; two cores on CI machines.
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
