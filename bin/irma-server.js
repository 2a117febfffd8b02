#!/usr/bin/env node
// The `irma-server` command: the compiled JavaScript in dist/ (built by `npm run build`, and by
// prepack for a package), run by plain node, so signals reach the server itself.
try {
  await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('/dist/cli/main.js')) throw e;
  process.stderr.write('irma-server: the compiled server is missing (dist/): run `npm run build` first\n');
  process.exitCode = 1;
}
