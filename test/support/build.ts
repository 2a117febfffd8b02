// vitest globalSetup: compiles src/ into dist/ once before any test file runs. Tests that start
// `npm start`, the `irma-server` bin or a packed tarball run the compiled server, as deployed; one
// build here means their own prestart/prepack builds find nothing to do (incremental) instead of
// several tsc processes writing dist/ at once.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { REPO_ROOT } from './reference.js';

export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
}
