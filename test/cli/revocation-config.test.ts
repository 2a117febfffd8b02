// revocation_settings, revocation_db_type and revocation_db_str from flags, environment and a
// configuration file, in the reference's snake_case.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/cli/config.js';
import { parseServerFlags } from '../../src/cli/run.js';
import { OptionsError } from '../../src/server/options.js';

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-revconfig-'));
  home = join(dir, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (argv: string[] = [], env: Record<string, string> = {}) =>
  loadConfig({ flags: parseServerFlags(argv), env: { HOME: home, ...env }, cwd: dir });

describe('revocation options', () => {
  it('reads them from a configuration file without warnings', () => {
    writeFileSync(
      join(dir, 'irmaserver.yaml'),
      toYaml({
        revocation_db_type: 'postgres',
        revocation_db_str: 'host=127.0.0.1 dbname=test',
        revocation_settings: { 'irma-demo.MijnOverheid.root': { authority: true, tolerance: 120 } },
      }),
    );
    const c = load();
    expect(c.warnings).toEqual([]);
    expect(c.options.revocationDbType).toBe('postgres');
    expect(c.options.revocationDbStr).toBe('host=127.0.0.1 dbname=test');
    expect(c.options.revocationSettings).toEqual({ 'irma-demo.MijnOverheid.root': { authority: true, tolerance: 120 } });
  });

  it('reads the JSON flag and the environment', () => {
    const c = load(['--revocation-settings', '{"irma-demo.MijnOverheid.root": {"revocation_server_url": "https://a/irma", "sse": true}}'], {
      IRMASERVER_REVOCATION_DB_STR: 'postgres://x',
    });
    expect(c.options.revocationSettings).toEqual({ 'irma-demo.MijnOverheid.root': { revocationServerUrl: 'https://a/irma', sse: true } });
    expect(c.options.revocationDbStr).toBe('postgres://x');
  });

  it('refuses unknown or mistyped settings', () => {
    expect(() => load(['--revocation-settings', '{"a.b.c": {"authorty": true}}'])).toThrow(OptionsError);
    expect(() => load(['--revocation-settings', '{"a.b.c": {"tolerance": "x"}}'])).toThrow(OptionsError);
  });
});
