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
    // Tests never reach for the internet: no default scheme downloads, no periodic scheme updates
    // (the tests of those set them explicitly, against local servers).
    // Nor do servers started by the tests spend their first 0.6 s warming up (one test does).
    env: { IRMASERVER_DOWNLOAD_DEFAULT_SCHEMES: 'false', IRMASERVER_SCHEMES_UPDATE: '0', IRMA_WARMUP: '0' },
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
