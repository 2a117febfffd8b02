// Loading the configuration: flags (parsed by the real command line) > env > file > defaults.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { loadConfig, type LoadedConfig } from '../../src/cli/config.js';
import { redactSecrets } from '../../src/cli/redact.js';
import { parseServerFlags } from '../../src/cli/run.js';
import { OptionsError, validateOptions } from '../../src/server/options.js';
import { REFERENCE_JWTKEYS, REFERENCE_SCHEMES } from '../support/reference.js';

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-config-'));
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

describe('precedence', () => {
  it('flag beats env beats file beats default', () => {
    write('irmaserver.yaml', toYaml({ port: 3000, jwt_issuer: 'file', max_request_age: 30, api_prefix: '/file' }));
    const env = { IRMASERVER_PORT: '2000', IRMASERVER_JWT_ISSUER: 'env' };
    const c = load(['--port', '1000'], env);
    expect(c.options.port).toBe(1000);
    expect(c.options.jwtIssuer).toBe('env');
    expect(c.options.maxRequestAge).toBe(30);
    expect(c.options.sessionResultLifetime).toBe(5);
    expect(c.sources.get('port')).toBe('flag');
    expect(c.sources.get('jwt_issuer')).toBe('env');
    expect(c.sources.get('max_request_age')).toBe('file');
    expect(load([], env).options.port).toBe(2000);
    expect(load().options.port).toBe(3000);
  });

  it('an empty environment variable counts as unset', () => {
    write('irmaserver.json', JSON.stringify({ jwt_issuer: 'file' }));
    expect(load([], { IRMASERVER_JWT_ISSUER: '' }).options.jwtIssuer).toBe('file');
  });

  it('production mode from any source switches the defaults', () => {
    const d = load().options;
    expect(d.noAuth).toBe(true);
    expect(d.issuePerms).toEqual(['*']);
    for (const p of [load(['--production']), load([], { IRMASERVER_PRODUCTION: 'true' })]) {
      expect(p.options.production).toBe(true);
      expect(p.options.noAuth).toBe(false);
      expect(p.options.issuePerms).toEqual([]);
      expect(p.options.url).toBe('');
      expect(p.useDemoScheme).toBe(false);
    }
    write('irmaserver.yml', 'production: true\nno_auth: true\n');
    const f = load().options;
    expect([f.production, f.noAuth]).toEqual([true, true]);
  });

  it('development URL defaults to http://<IPv4>:port, production to none', () => {
    const url = load().options.url;
    if (url !== '') expect(url).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:port$/);
    expect(load(['-u', 'https://x.example']).options.url).toBe('https://x.example');
  });
});

describe('config files', () => {
  it('reads JSON, YAML and YML from the working directory, then $HOME/.irmaserver', () => {
    mkdirSync(join(home, '.irmaserver'));
    writeFileSync(join(home, '.irmaserver', 'irmaserver.yml'), 'port: 4444\n');
    expect(load().options.port).toBe(4444);
    const json = write('irmaserver.json', JSON.stringify({ port: 5555 }));
    const c = load();
    expect(c.options.port).toBe(5555);
    expect(c.configFile).toBe(json);
  });

  it('--config / -c / IRMASERVER_CONFIG name the file, which must exist and not be a directory', () => {
    write('irmaserver.yaml', 'port: 1111\n');
    const custom = write('custom.yaml', 'port: 2222\nsse: true\n');
    expect(load(['--config', custom]).options.port).toBe(2222);
    expect(load(['-c', 'custom.yaml']).options.sse).toBe(true);
    expect(load([], { IRMASERVER_CONFIG: custom }).options.port).toBe(2222);
    expect(loadError(['-c', join(dir, 'missing.yaml')])).toMatch(/^specified configuration file does not exist/);
    expect(loadError(['-c', home])).toMatch(/^specified configuration file is a directory/);
    expect(loadError(['-c', write('conf.toml', 'port = 1')])).toMatch(/^unsupported configuration file type "toml"/);
  });

  it('rejects unparsable files and wrongly typed values with the key named', () => {
    expect(loadError(['-c', write('bad.json', '{"port": ')])).toMatch(/^failed to unmarshal configuration file at .*bad\.json/);
    expect(loadError(['-c', write('list.yaml', '- a\n- b\n')])).toMatch(/expected a mapping/);
    expect(loadError(['-c', write('t.yaml', 'port: [1]\n')])).toBe('invalid value for configuration key port: expected an integer');
    expect(loadError(['-c', write('b.yaml', 'sse: maybe\n')])).toMatch(/^invalid value for configuration key sse: "maybe" is not a boolean/);
  });

  it('syntax errors name the place, never quote the text around it (keys and passwords live there)', () => {
    const secret = 'Sup3rSecretRedisPassw0rd';
    const messages = [
      loadError(['-c', write('pw.json', `{"redis_pw": ${secret}}`)]),
      loadError(['-c', write('pw.yaml', `redis_pw: ${secret}: x\n`)]),
      loadError(['-c', write('quote.yaml', `redis_pw: "${secret}\n`)]),
      loadError(['--requestors', `{"acme": {"auth_method": "token", "key": ${secret}}}`]),
      loadError([], { IRMASERVER_STORE_ENCRYPTION_KEYS: `[{"id": "k1", "key": ${secret}}]` }),
    ];
    for (const m of messages) expect(m).not.toMatch(/Sup3r|Secret|Passw0rd/);
    expect(messages[0]).toMatch(/^failed to unmarshal configuration file at .*pw\.json: Unexpected token 'S' \(not valid JSON\)$/);
    expect(messages[1]).toMatch(/pw\.yaml: .*line 1, column 11$/);
    expect(messages[3]).toMatch(/^failed to unmarshal --requestors from flag or env var: .*not valid JSON/);
  });

  it('refuses unknown keys with a hint; only warns about options the reference deprecated', () => {
    write('irmaserver.yaml', toYaml({ port: 1234, prot: 1 }));
    expect(loadError()).toMatch(/^unknown configuration key "prot" in .*irmaserver\.yaml \(did you mean "port"\?\)$/);
    write('irmaserver.yaml', toYaml({ port: 1234, schemes_update: 10, email: 'x@example.com' }));
    const c = load();
    expect(c.options.port).toBe(1234);
    expect(c.options.schemesUpdate).toBe(10);
    expect(c.warnings).toEqual(['option email is deprecated and ignored']);
  });

  it('accepts the SD-JWT VC directory flags of the reference', () => {
    const c = load(['--sdjwtvc-issuer-certificates-dir', 'certs', '--sdjwtvc-issuer-private-keys-dir', 'keys',]);
    expect(c.options.sdjwtvc).toEqual({ issuerCertificatesDir: join(dir, 'certs'), issuerPrivateKeysDir: join(dir, 'keys') });
  });

  it('SD-JWT VC directories: off by default, on with either flag, and the sdjwtvc map laid over the flags', () => {
    expect(load().options.sdjwtvc).toBeUndefined();
    expect(load(['--sdjwtvc-issuer-private-keys-dir', 'keys']).options.sdjwtvc).toEqual({
      issuerCertificatesDir: '',
      issuerPrivateKeysDir: join(dir, 'keys'),
    });
    expect(load([], { IRMASERVER_SDJWTVC_ISSUER_CERTIFICATES_DIR: '/c' }).options.sdjwtvc?.issuerCertificatesDir).toBe('/c');
    write('irmaserver.json', JSON.stringify({ sdjwtvc: { Issuer_Certificates_Dir: 'certs', issuer_private_keys_dir: '/k', other: 1 } }));
    const c = load(['--sdjwtvc-issuer-private-keys-dir', 'keys']);
    expect(c.options.sdjwtvc).toEqual({ issuerCertificatesDir: join(dir, 'certs'), issuerPrivateKeysDir: '/k' });
    expect(c.warnings).toEqual(['unknown key "other" in sdjwtvc']);
  });

  it("knows every flag of the reference's command line, and refuses those of features it lacks, naming them", () => {
    expect(load(['--no-email']).warnings).toEqual(['option no_email is deprecated and ignored']);
    expect(loadError(['--schemes-assets-path', 'assets'])).toBe(
      '--schemes-assets-path is not supported by this server (scheme assets are not copied; put the schemes in schemes_path): remove it from the configuration',
    );
  });

  it('YAML and JSON give the same options', () => {
    const conf = {
      production: true,
      url: 'https://irma.example.com',
      port: 8443,
      requestors: { shop: { auth_method: 'token', key: 'shoptoken', disclose_perms: ['irma-demo.MijnOverheid.*'] } },
      issue_perms: ['irma-demo.MijnOverheid.fullName'],
      schemes_path: REFERENCE_SCHEMES,
      max_session_lifetime: 10,
    };
    const a = load(['-c', write('a.json', JSON.stringify(conf))]).options;
    const b = load(['-c', write('b.yaml', toYaml(conf))]).options;
    expect(a).toEqual(b);
    expect(a.requestors).toEqual({ shop: { authMethod: 'token', key: 'shoptoken', disclosePerms: ['irma-demo.MijnOverheid.*'] } });
    expect(validateOptions(a).url).toBe('https://irma.example.com/irma/');
  });
});

describe('value kinds', () => {
  it('booleans: --flag, --flag=true/false, env true/false/1/0', () => {
    expect(load(['--no-auth']).options.noAuth).toBe(true);
    expect(load(['--no-auth=false']).options.noAuth).toBe(false);
    expect(load(['--production', '--no-auth=true']).options.noAuth).toBe(true);
    expect(load([], { IRMASERVER_NO_AUTH: 'false' }).options.noAuth).toBe(false);
    expect(load([], { IRMASERVER_SSE: '1' }).options.sse).toBe(true);
    expect(load([], { IRMASERVER_NO_TLS: 'TRUE' }).options.noTls).toBe(true);
    expect(load(['--sse=false'], { IRMASERVER_SSE: 'true' }).options.sse).toBe(false);
    expect(loadError([], { IRMASERVER_SSE: 'sometimes' })).toBe(
      'invalid value for IRMASERVER_SSE: "sometimes" is not a boolean (use true or false)',
    );
    expect(loadError(['--sse=sometimes'])).toMatch(/not a boolean/);
  });

  it('integers are checked in flags and env', () => {
    expect(loadError(['--port', '80x'])).toMatch(/--port <n>.*not an integer/);
    expect(loadError([], { IRMASERVER_MAX_SESSION_LIFETIME: '1.5' })).toBe(
      'invalid value for IRMASERVER_MAX_SESSION_LIFETIME: "1.5" is not an integer',
    );
  });

  it('verbosity counts -v, -vv and takes a number from env', () => {
    expect(load(['-v']).options.verbose).toBe(1);
    expect(load(['-vv']).options.verbose).toBe(2);
    expect(load(['-v', '-v']).options.verbose).toBe(2);
    expect(load([], { IRMASERVER_VERBOSE: '2' }).options.verbose).toBe(2);
    expect(load(['-q']).options.quiet).toBe(true);
  });

  it('lists: comma-separated and repeatable flags, comma/space-separated env, YAML lists', () => {
    expect(load(['--disclose-perms', 'a.b.c.d,a.b.c.e', '--disclose-perms', 'x.*']).options.disclosePerms).toEqual([
      'a.b.c.d', 'a.b.c.e', 'x.*',
    ]);
    expect(load([], { IRMASERVER_ISSUE_PERMS: 'a.b.c b.c.d,c.*' }).options.issuePerms).toEqual(['a.b.c', 'b.c.d', 'c.*']);
    write('irmaserver.yaml', 'sign_perms:\n  - "irma-demo.*"\nrevoke_perms: []\n');
    const c = load();
    expect(c.options.signPerms).toEqual(['irma-demo.*']);
    expect(c.options.revokePerms).toEqual([]);
  });

  it('maps as JSON strings in flags and env, objects in files', () => {
    const requestors = { acme: { auth_method: 'hmac', key: 'c2VjcmV0', issue_perms: ['irma-demo.MijnOverheid.fullName'], host_perms: ['*.acme.com'] } };
    const expected = { acme: { authMethod: 'hmac', key: 'c2VjcmV0', issuePerms: ['irma-demo.MijnOverheid.fullName'], hostPerms: ['*.acme.com'] } };
    expect(load(['--requestors', JSON.stringify(requestors)]).options.requestors).toEqual(expected);
    expect(load([], { IRMASERVER_REQUESTORS: JSON.stringify(requestors) }).options.requestors).toEqual(expected);
    write('irmaserver.yaml', toYaml({ requestors }));
    expect(load().options.requestors).toEqual(expected);

    const staticSessions = { login: { request: { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [] }, callbackUrl: 'https://x/cb' } };
    expect(load(['--static-sessions', JSON.stringify(staticSessions)]).options.staticSessions).toEqual(staticSessions);
    expect(load([], { IRMASERVER_STATIC_SESSIONS: JSON.stringify(staticSessions) }).options.staticSessions).toEqual(staticSessions);

    expect(loadError(['--requestors', '{"acme": '])).toMatch(/^failed to unmarshal --requestors from flag or env var: /);
    expect(loadError([], { IRMASERVER_STATIC_SESSIONS: '[1]' })).toMatch(/expected a JSON object/);
  });

  it('requestor member names match case-insensitively; unknown members are refused with a hint', () => {
    const c = load(['--requestors', JSON.stringify({ r: { Auth_Method: 'token', KEY: 'k' } })]);
    expect(c.options.requestors.r).toEqual({ authMethod: 'token', key: 'k' });
    expect(loadError(['--requestors', JSON.stringify({ r: { auth_method: 'token', key: 'k', colour: 'red' } })])).toBe(
      'unknown key "colour" in requestor r',
    );
    expect(loadError(['--requestors', JSON.stringify({ r: { auth_method: 'token', keyfile: 'k' } })])).toBe(
      'unknown key "keyfile" in requestor r (did you mean "key_file"?)',
    );
    expect(loadError(['--requestors', JSON.stringify({ r: { auth_method: 'token' } })])).toBe(
      'failed to read key of requestor r: provide either key or path to key',
    );
    expect(loadError(['--requestors', JSON.stringify({ r: 'token' })])).toMatch(/^requestor r: expected an object/);
  });
});

describe('key files', () => {
  const jwtPath = join(REFERENCE_JWTKEYS, 'sk.pem');
  const jwtPem = readFileSync(jwtPath, 'utf8');

  it('_file twins are read verbatim, relative to the working directory', () => {
    expect(load(['--jwt-privkey-file', jwtPath]).options.jwtPrivateKey).toBe(jwtPem);
    write('jwt.pem', jwtPem);
    expect(load([], { IRMASERVER_JWT_PRIVKEY_FILE: 'jwt.pem' }).options.jwtPrivateKey).toBe(jwtPem);
    expect(load(['--jwt-privkey', 'inline']).options.jwtPrivateKey).toBe('inline');
    write('cert.pem', 'CERT\n');
    write('key.pem', 'KEY\n');
    const tls = load(['--tls-cert-file', 'cert.pem', '--tls-privkey-file', 'key.pem', '--client-tls-cert', 'C', '--client-tls-privkey-file', 'key.pem']).options;
    expect([tls.tlsCert, tls.tlsPrivkey, tls.clientTlsCert, tls.clientTlsPrivkey]).toEqual(['CERT\n', 'KEY\n', 'C', 'KEY\n']);
  });

  it('exactly one of key and key file', () => {
    expect(loadError(['--jwt-privkey', 'x', '--jwt-privkey-file', jwtPath])).toBe(
      'failed to read private key: provide either key or path to key (jwt_privkey and jwt_privkey_file both set)',
    );
    // The pair is resolved key by key, each with its own precedence: here one comes from env.
    expect(loadError(['--tls-cert', 'x'], { IRMASERVER_TLS_CERT_FILE: jwtPath })).toMatch(/^failed to read TLS configuration: provide either key or path to key/);
    expect(loadError(['--jwt-privkey-file', join(dir, 'none.pem')])).toMatch(/^failed to read private key \(jwt_privkey_file\): failed to stat key/);
    expect(loadError(['--jwt-privkey-file', dir])).toBe('failed to read private key (jwt_privkey_file): cannot read key from a directory');
  });

  it('requestor key_file keeps its trailing newline (part of the key, as in the reference)', () => {
    write('token.txt', 'sesame\n');
    const c = load(['--requestors', JSON.stringify({ r: { auth_method: 'token', key_file: 'token.txt' } })]);
    expect(c.options.requestors.r.key).toBe('sesame\n');
    expect(loadError(['--requestors', JSON.stringify({ r: { auth_method: 'token', key: 'a', key_file: 'token.txt' } })])).toBe(
      'failed to read key of requestor r: provide either key or path to key',
    );
  });
});

describe('Redis options', () => {
  it('maps flags, env and file keys onto RedisStoreOptions', () => {
    const c = load(
      ['--store-type', 'redis', '--redis-addr', 'redis.local:6380', '--redis-acl-use-key-prefixes', '--redis-db', '2',
        '--redis-tls-cert-file', 'ca.pem', '--redis-wait-replicas', '1', '--redis-key-prefix', 'app1:',
        '--store-encryption-keys', 'new:' + 'A'.repeat(43) + '=,old:' + 'B'.repeat(43) + '='],
      { IRMASERVER_REDIS_PW: 'hunter2', IRMASERVER_REDIS_USERNAME: 'irma' },
    );
    expect(c.options.storeType).toBe('redis');
    expect(c.options.redis).toEqual({
      redisAddr: 'redis.local:6380',
      redisPw: 'hunter2',
      redisUsername: 'irma',
      redisAclUseKeyPrefixes: true,
      redisDb: 2,
      redisTlsCertFile: join(dir, 'ca.pem'),
      redisWaitReplicas: 1,
      redisKeyPrefix: 'app1:',
      storeEncryptionKeys: [{ id: 'new', key: 'A'.repeat(43) + '=' }, { id: 'old', key: 'B'.repeat(43) + '=' }],
    });
    write('irmaserver.yaml', toYaml({
      store_type: 'redis',
      redis_cluster_addrs: ['n1:7000', 'n2:7000'],
      redis_accept_inconsistency_risk: true,
      redis_allow_empty_password: true,
      store_encryption_keys: [{ id: 'k1', key: 'C'.repeat(43) + '=' }],
    }));
    expect(load().options.redis).toEqual({
      redisClusterAddrs: ['n1:7000', 'n2:7000'],
      redisAcceptInconsistencyRisk: true,
      redisAllowEmptyPassword: true,
      storeEncryptionKeys: [{ id: 'k1', key: 'C'.repeat(43) + '=' }],
    });
    expect(load([], { IRMASERVER_STORE_TYPE: 'redis', IRMASERVER_STORE_ENCRYPTION_KEYS: '[{"id":"j","key":"k"}]' }).options.redis.storeEncryptionKeys).toEqual([{ id: 'j', key: 'k' }]);
    expect(loadError(['--store-type', 'redis', '--store-encryption-keys', 'nocolon'])).toMatch(/expected id:base64key entries/);
    expect(loadError(['--store-type', 'mysql'])).toBe('store_type must be "memory" or "redis" (was "mysql")');
  });

  it('Redis and other secrets never appear in the printable configuration', () => {
    const c = load(
      ['--store-type', 'redis', '--redis-addr', 'h:1', '--redis-pw', 'hunter2', '--redis-sentinel-pw', 'sentinelpw',
        '--jwt-privkey', 'JWTSECRET', '--requestors', JSON.stringify({ r: { auth_method: 'token', key: 'TOKENSECRET' } }),
        '--store-encryption-keys', 'k:' + 'Z'.repeat(43) + '='],
    );
    const printed = JSON.stringify(redactSecrets(c.options));
    for (const secret of ['hunter2', 'sentinelpw', 'JWTSECRET', 'TOKENSECRET', 'Z'.repeat(43)]) expect(printed).not.toContain(secret);
    expect(printed).toContain('h:1');
  });
});

describe('demo scheme default', () => {
  it('development without schemes_path uses the demo scheme in data_dir (default ~/.irma-server-ts)', () => {
    const c = load();
    expect(c.useDemoScheme).toBe(true);
    expect(c.dataDir).toBe(join(home, '.irma-server-ts'));
    expect(load([], { IRMASERVER_DATA_DIR: 'data' }).dataDir).toBe(join(dir, 'data'));
    expect(load(['--data-dir', '/srv/irma']).dataDir).toBe('/srv/irma');
    const s = load(['-s', REFERENCE_SCHEMES]);
    expect(s.useDemoScheme).toBe(false);
    expect(s.options.schemesPath).toBe(REFERENCE_SCHEMES);
  });
});
