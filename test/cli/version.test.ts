// `irma-server --version` and `irma-server version` print the package's version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { REPO_ROOT } from '../support/reference.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

async function cli(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await run(argv, {}, { cwd: REPO_ROOT, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true } });
  return { code, stdout };
}

describe('version', () => {
  it('--version prints the version alone', async () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n` });
    expect(await cli(['-V'])).toEqual({ code: 0, stdout: `${VERSION}\n` });
  });

  it('the version command prints version, platform and Node.js, as the reference prints version and OS/arch', async () => {
    const { code, stdout } = await cli(['version']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Version:  ${VERSION}\n`);
    expect(stdout).toContain(`OS/Arch:  ${process.platform}/${process.arch}\n`);
    expect(stdout).toContain(`Node.js:  ${process.version}\n`);
  });
});
