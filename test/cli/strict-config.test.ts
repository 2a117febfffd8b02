// Configuration mistakes stop the server with a message that names the option to change: unknown
// keys (with the nearest known one), options of features this server lacks, empty secrets, and
// secrets read from files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { loadConfig, type LoadedConfig } from '../../src/cli/config.js';
import { envName, flagName, OPTION_SPECS } from '../../src/cli/option-specs.js';
import { parseServerFlags, run } from '../../src/cli/run.js';
import { OptionsError } from '../../src/server/options.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-strict-config-'));
  home = join(dir, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(argv: string[] = [], env: Record<string, string> = {}): LoadedConfig {
  return loadConfig({ flags: parseServerFlags(argv), env: { HOME: home, ...env }, cwd: dir });
}
function loadError(argv: string[] = [], env: Record<string, string> = {}): string {
  try {
    load(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(OptionsError);
    return (e as OptionsError).message;
  }
  throw new Error('loading succeeded');
}
function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

describe('unknown keys', () => {
  it('a typo in the configuration file is an error naming the key and the one meant', () => {
    write('irmaserver.yaml', toYaml({ store_typ: 'redis', port: 1234 }));
    expect(loadError()).toMatch(/^unknown configuration key "store_typ" in .*irmaserver\.yaml \(did you mean "store_type"\?\)$/);
  });

  it('lists every unknown key at once; no hint when nothing is close', () => {
    write('irmaserver.json', JSON.stringify({ jwt_isuer: 'x', completely_different: 1 }));
    const message = loadError();
    expect(message).toContain('unknown configuration key "jwt_isuer"');
    expect(message).toContain('(did you mean "jwt_issuer"?)');
    expect(message).toMatch(/unknown configuration key "completely_different" in [^\n]*irmaserver\.json$/);
  });

  it('an unknown IRMASERVER_ variable only warns (the environment is shared), with the hint', () => {
    const c = load([], { IRMASERVER_STORE_TYP: 'redis', OTHER_PROGRAM_VAR: 'x' });
    expect(c.options.storeType).toBe('memory');
    expect(c.warnings).toEqual(['unknown environment variable IRMASERVER_STORE_TYP is ignored (did you mean "IRMASERVER_STORE_TYPE"?)']);
  });
});

describe('options of features this server lacks', () => {
  const unsupported = OPTION_SPECS.filter((s) => s.ignored);

  it('each one is an error naming it as given: flag, environment variable or file key', () => {
    for (const spec of unsupported) {
      const value = spec.kind === 'map' ? '{}' : spec.kind === 'int' ? '5' : spec.kind === 'bool' ? 'true' : 'x';
      const flag = `--${flagName(spec.key)}`;
      expect(loadError(spec.kind === 'bool' ? [flag] : [flag, value])).toBe(
        `${flag} is not supported by this server (${spec.ignored}): remove it from the configuration`,
      );
      expect(loadError([], { [envName(spec.key)]: value })).toMatch(new RegExp(`^${envName(spec.key)} is not supported by this server`));
      write('irmaserver.json', JSON.stringify({ [spec.key]: spec.kind === 'map' ? {} : value }));
      expect(loadError()).toMatch(new RegExp(`^${spec.key} in .*irmaserver\\.json is not supported by this server \\(${spec.ignored}\\)`));
      rmSync(join(dir, 'irmaserver.json'));
    }
  });

  it('scheme assets, for one', () => {
    expect(unsupported.map((s) => s.key)).toContain('schemes_assets_path');
    expect(loadError(['--schemes-assets-path', 'assets'])).toBe(
      '--schemes-assets-path is not supported by this server (scheme assets are not copied; put the schemes in schemes_path): remove it from the configuration',
    );
  });
});

describe('secrets', () => {
  it('an empty secret is an error, not "none" (an empty key ring meant unencrypted state)', () => {
    const redis = ['--store-type', 'redis', '--redis-addr', 'localhost:6379'];
    expect(loadError([...redis, '--store-encryption-keys', ''])).toBe(
      '--store-encryption-keys is empty: give a value (or leave the option out), see --store-encryption-keys in --help',
    );
    expect(loadError([...redis, '--redis-pw', ''])).toMatch(/^--redis-pw is empty/);
    expect(loadError(['--jwt-privkey-file', ''])).toMatch(/^--jwt-privkey-file is empty/);
    expect(loadError(['--tls-privkey', ' '])).toMatch(/^--tls-privkey is empty/);
    write('irmaserver.yaml', toYaml({ store_type: 'redis', redis_addr: 'localhost:6379', redis_pw: '' }));
    expect(loadError()).toMatch(/^redis_pw in .*irmaserver\.yaml is empty/);
    write('irmaserver.yaml', toYaml({ store_type: 'redis', redis_addr: 'localhost:6379', store_encryption_keys: [] }));
    expect(loadError()).toMatch(/^store_encryption_keys in .*irmaserver\.yaml is empty/);
  });

  it('an empty environment variable still counts as unset, as in the reference', () => {
    expect(load([], { IRMASERVER_JWT_PRIVKEY: '' }).options.jwtPrivateKey).toBeUndefined();
  });

  it('the Redis passwords and the encryption keys can be read from files', () => {
    write('redis-pw', 'Sup3r secret\n');
    write('sentinel-pw', 'sentinel');
    write('keys', `new:${KEY_B},old:${KEY_A}\n`);
    const c = load([
      '--store-type', 'redis', '--redis-sentinel-addrs', 'localhost:26379', '--redis-sentinel-master-name', 'm',
      '--redis-accept-inconsistency-risk', '--redis-pw-file', 'redis-pw', '--store-encryption-keys-file', join(dir, 'keys'),
    ], { IRMASERVER_REDIS_SENTINEL_PW_FILE: 'sentinel-pw' });
    expect(c.options.redis.redisPw).toBe('Sup3r secret');
    expect(c.options.redis.redisSentinelPw).toBe('sentinel');
    expect(c.options.redis.storeEncryptionKeys).toEqual([{ id: 'new', key: KEY_B }, { id: 'old', key: KEY_A }]);
    // JSON lists work in the file as inline.
    write('keys.json', JSON.stringify([{ id: 'k1', key: KEY_A }]));
    write('irmaserver.yaml', toYaml({ store_type: 'redis', redis_addr: 'localhost:6379', redis_pw_file: 'redis-pw', store_encryption_keys_file: 'keys.json' }));
    expect(load().options.redis.storeEncryptionKeys).toEqual([{ id: 'k1', key: KEY_A }]);
  });

  it('a secret file that is missing, empty, or given beside the inline option is an error naming the option', () => {
    const redis = ['--store-type', 'redis', '--redis-addr', 'localhost:6379'];
    expect(loadError([...redis, '--redis-pw-file', 'nope'])).toMatch(/^--redis-pw-file: cannot read .*nope: ENOENT$/);
    write('empty', '\n');
    expect(loadError([...redis, '--store-encryption-keys-file', 'empty'])).toBe('--store-encryption-keys-file: the file empty is empty');
    write('pw', 'pw');
    expect(loadError([...redis, '--redis-pw-file', 'pw'], { IRMASERVER_REDIS_PW: 'pw' })).toBe(
      'both IRMASERVER_REDIS_PW and --redis-pw-file are given: keep only one of them',
    );
    write('bad-keys', 'no-colon-here');
    expect(loadError([...redis, '--store-encryption-keys-file', 'bad-keys'])).toMatch(/^invalid value for --store-encryption-keys-file \(bad-keys\): expected id:base64key/);
  });
});

describe('as the command reports them', () => {
  it('server and check exit 1 with the message naming the option', async () => {
    for (const command of ['server', 'check']) {
      let stderr = '';
      let stdout = '';
      const code = await run([command, '-s', REFERENCE_SCHEMES, '--schemes-assets-path', 'x'], { HOME: home }, {
        cwd: dir,
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
      });
      expect(code).toBe(1);
      expect(stderr + stdout).toContain('--schemes-assets-path is not supported by this server (scheme assets are not copied');
    }
  });
});

describe("the README's service configuration", () => {
  it('is accepted as written, with its secrets from files', async () => {
    const { readFileSync } = await import('node:fs');
    const { REPO_ROOT } = await import('../support/reference.js');
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Installing and running it as a service\n'))!;
    const yaml = /^```yaml\n([\s\S]*?)^```/m.exec(section)![1];
    const unit = /^```ini\n([\s\S]*?)^```/m.exec(section)![1];
    mkdirSync(join(dir, 'secrets'));
    write('secrets/shop-token', 'shop-secret-token');
    write('secrets/redis-pw', 'redis password');
    write('irmaserver.yml', yaml.replaceAll('/etc/irmaserver', dir));
    // The unit hands the password file over through IRMASERVER_REDIS_PW_FILE.
    expect(unit).toContain('Environment=IRMASERVER_REDIS_PW_FILE=');
    const c = load(['--production'], { IRMASERVER_REDIS_PW_FILE: join(dir, 'secrets/redis-pw') });
    expect(c.warnings).toEqual([]);
    expect(c.options.redis.redisPw).toBe('redis password');
    expect(c.options.requestors.shop).toEqual({ authMethod: 'token', key: 'shop-secret-token' });
    expect(c.options.metricsPort).toBe(9464);
  });
});

describe('with --log-json', () => {
  it('a configuration error is a JSON log line too, and so is every line of a running server', async () => {
    let stderr = '';
    const io = { cwd: dir, stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } };
    expect(await run(['server', '--log-json', '-s', REFERENCE_SCHEMES, '--store-typ', 'redis'], { HOME: home }, io)).toBe(1);
    expect(stderr).toMatch(/unknown option '--store-typ'/);
    stderr = '';
    write('irmaserver.json', JSON.stringify({ store_typ: 'redis' }));
    expect(await run(['server', '-s', REFERENCE_SCHEMES], { HOME: home, IRMASERVER_LOG_JSON: 'true' }, io)).toBe(1);
    const line = JSON.parse(stderr) as { level: number; msg: string };
    expect(line.level).toBe(50);
    expect(line.msg).toMatch(/^failed to read configuration: unknown configuration key "store_typ" in .* \(did you mean "store_type"\?\)$/);
    rmSync(join(dir, 'irmaserver.json'));

    // A running server in development (which otherwise prints a text banner): JSON lines only.
    const { freePort } = await import('../support/redis.js');
    const port = await freePort();
    const stop = new AbortController();
    let stdout = '';
    stderr = '';
    const running = run(['server', '--log-json', '--data-dir', join(dir, 'data'), '--port', String(port), '--url', 'http://localhost:port'], { HOME: home }, {
      cwd: dir,
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      signal: stop.signal,
      onListening: () => stop.abort(),
    });
    expect(await running).toBe(0);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg).filter((m) => /listening/i.test(m))).toEqual(['server listening']);
  });
});
