// Startup checks of src/server/options.ts (spec §10, §4.3), with the reference's messages.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import {
  decodeAnyBase64,
  defaultOptions,
  havePrivateKeys,
  OptionsError,
  validateOptions,
  validateOptionsAgainstSchemes,
  type ServerOptions,
} from '../../src/server/options.js';
import { REFERENCE_JWTKEYS, REFERENCE_SCHEMES } from '../support/reference.js';

const requestor1Pem = readFileSync(join(REFERENCE_JWTKEYS, 'requestor1.pem'), 'utf8');
const jwtSk = readFileSync(join(REFERENCE_JWTKEYS, 'sk.pem'), 'utf8');

function dev(overrides: Partial<ServerOptions> = {}): ServerOptions {
  return { ...defaultOptions(false), schemesPath: REFERENCE_SCHEMES, ...overrides };
}
function prod(overrides: Partial<ServerOptions> = {}): ServerOptions {
  return {
    ...defaultOptions(true),
    schemesPath: REFERENCE_SCHEMES,
    url: 'https://irma.example.com',
    requestors: { r: { authMethod: 'token', key: 'secret-token' } },
    ...overrides,
  };
}
function failure(o: ServerOptions): OptionsError {
  try {
    validateOptions(o);
  } catch (e) {
    expect(e).toBeInstanceOf(OptionsError);
    return e as OptionsError;
  }
  throw new Error('validateOptions accepted the options');
}

describe('defaultOptions', () => {
  it('has the reference defaults, stricter in production', () => {
    const d = defaultOptions(false);
    expect(d).toMatchObject({
      port: 8088, apiPrefix: '/', noAuth: true, issuePerms: ['*'], disclosePerms: ['*'], signPerms: ['*'],
      revokePerms: [], maxRequestAge: 300, jwtIssuer: 'irmaserver', maxSessionLifetime: 15,
      sessionResultLifetime: 5, storeType: 'memory', staticPrefix: '/', sse: false,
    });
    const p = defaultOptions(true);
    expect(p.noAuth).toBe(false);
    expect(p.issuePerms).toEqual([]);
    expect(p.production).toBe(true);
  });
});

describe('validateOptions', () => {
  it('normalises url, api prefix and lifetimes without touching the input', () => {
    const input = dev({ url: 'http://10.0.0.1:port', apiPrefix: '/api', maxSessionLifetime: 0, sessionResultLifetime: 0, port: 9000 });
    const o = validateOptions(input);
    expect(o.url).toBe('http://10.0.0.1:9000/irma/');
    expect(o.apiPrefix).toBe('/api/');
    expect(o.maxSessionLifetime).toBe(15);
    expect(o.sessionResultLifetime).toBe(5);
    expect(input.url).toBe('http://10.0.0.1:port');
    // Validating twice changes nothing, so the server may re-check options it is handed.
    expect(validateOptions(o)).toEqual(o);
  });

  it('replaces :port by the client port when there is a separate client listener', () => {
    expect(validateOptions(dev({ url: 'http://h:port/', clientPort: 9001 })).url).toBe('http://h:9001/irma/');
  });

  it('requestors vs no_auth', () => {
    expect(failure(dev({ requestors: { a: { authMethod: 'token', key: 'k' } } })).message).toBe(
      'Requestors must not be configured when requestor authentication is disabled',
    );
    expect(failure(dev({ noAuth: false })).message).toBe(
      'No requestors configured; either configure one or more requestors or disable requestor authentication',
    );
  });

  it('requestor authentication settings', () => {
    const bad = (r: Record<string, unknown>) => failure(dev({ noAuth: false, requestors: { r1: r as never } })).message;
    expect(bad({ authMethod: 'password', key: 'x' })).toBe(
      'Requestor r1 has unsupported authentication type password (supported methods: token, hmac, publickey)',
    );
    expect(bad({ authMethod: 'token', key: '' })).toBe('failed to read key of requestor r1: provide either key or path to key');
    expect(bad({ authMethod: 'hmac', key: 'not base64!' })).toMatch(/^failed to base64 decode hmac key of requestor r1/);
    expect(bad({ authMethod: 'publickey', key: 'garbage' })).toMatch(/^failed to read public key of requestor r1/);
    // The JWT signing key is a private RSA key, not a requestor public key.
    expect(bad({ authMethod: 'publickey', key: 'MIIB' })).toMatch(/requestor r1/);
    expect(
      failure(dev({
        noAuth: false,
        requestors: { a: { authMethod: 'token', key: 'same' }, b: { authMethod: 'token', key: 'same' } },
      })).message,
    ).toBe('Requestors a and b have the same token');
    // All three methods with valid keys pass (hmac keys in any base64 flavour).
    const ok = validateOptions(dev({
      noAuth: false,
      requestors: {
        t: { authMethod: 'token', key: 'tok' },
        h: { authMethod: 'hmac', key: 'eHl6-_8' },
        p: { authMethod: 'publickey', key: requestor1Pem },
      },
    }));
    expect(Object.keys(ok.requestors)).toEqual(['t', 'h', 'p']);
  });

  it('decodes hmac keys in standard and URL-safe base64, padded or not', () => {
    expect(decodeAnyBase64('aGVsbG8=')?.toString()).toBe('hello');
    expect(decodeAnyBase64('aGVsbG8')?.toString()).toBe('hello');
    expect(decodeAnyBase64('-_8')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeAnyBase64('+/8=')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeAnyBase64('a')).toBeUndefined();
    expect(decodeAnyBase64('ab$c')).toBeUndefined();
  });

  it('ports and the client listener', () => {
    expect(failure(dev({ port: 0 })).message).toBe('Port must be between 1 and 65535 (was 0)');
    expect(failure(dev({ port: 70000 })).message).toBe('Port must be between 1 and 65535 (was 70000)');
    expect(failure(dev({ clientPort: 8088 })).message).toBe('If client_port is given it must be different from port');
    expect(failure(dev({ clientPort: -1 })).message).toBe('client_port must be between 0 and 65535 (was -1)');
    expect(failure(dev({ clientListenAddr: '127.0.0.1' })).message).toBe(
      'client_listen_addr must be combined with a nonzero client_port',
    );
    expect(failure(dev({ port: 80.5 })).message).toBe('port must be an integer (was 80.5)');
  });

  it('api_prefix and static_prefix must start with a slash', () => {
    expect(failure(dev({ apiPrefix: 'api' })).message).toBe("api_prefix must start with a slash, but doesn't: api/");
    expect(failure(dev({ staticPath: '/srv', staticPrefix: 'x' })).message).toBe('static_prefix must start with a slash, was x');
    expect(validateOptions(dev({ staticPath: '/srv', staticPrefix: '/files' })).staticPrefix).toBe('/files/');
  });

  it('production requires https unless no_tls', () => {
    expect(failure(prod({ url: 'http://irma.example.com' })).message).toBe(
      'Running without TLS in production mode is unsafe without a reverse proxy. Either use a https:// URL or explicitly disable TLS.',
    );
    expect(validateOptions(prod({ url: 'http://irma.example.com', noTls: true })).url).toBe('http://irma.example.com/irma/');
    expect(validateOptions(dev({ url: 'http://irma.example.com' })).url).toBe('http://irma.example.com/irma/');
  });

  it('permission syntax: asterisks, part counts; all problems reported at once', () => {
    const e = failure(dev({
      disclosePerms: ['irma-demo.*.fullName', 'irma-demo.MijnOverheid.**', 'irma-demo.MijnOverheid.fullName'],
      issuePerms: ['irma-demo.MijnOverheid.fullName.firstname', 'irma-demo.MijnOverheid.fullName.*'],
      revokePerms: ['irma-demo'],
      signPerms: ['*', 'irma-demo.*'],
    }));
    expect(e.message.split('\n')[0]).toBe('Errors encountered in permissions:');
    expect(e.problems).toEqual([
      "Global issuing permission 'irma-demo.MijnOverheid.fullName.firstname' should have 3 parts",
      "Global issuing permission 'irma-demo.MijnOverheid.fullName.*' should have at most 3 parts",
      "Global disclosing permission 'irma-demo.*.fullName' contains asterisk not at end of line",
      "Global disclosing permission 'irma-demo.*.fullName' should have 4 parts",
      "Global disclosing permission 'irma-demo.MijnOverheid.**' contains too many asterisks (at most 1 permitted)",
      "Global disclosing permission 'irma-demo.MijnOverheid.**' should have 4 parts",
      "Global disclosing permission 'irma-demo.MijnOverheid.fullName' should have 4 parts",
      "Global revoking permission 'irma-demo' should have 3 parts",
    ]);
  });

  it('permission syntax of requestors', () => {
    const e = failure(dev({
      noAuth: false,
      requestors: { acme: { authMethod: 'token', key: 'k', issuePerms: ['a.b'] } },
    }));
    expect(e.problems).toEqual(["Requestor acme issuing permission 'a.b' should have 3 parts"]);
  });

  it('TLS certificate and key must come together and match', () => {
    const dir = mkdtempSync(join(tmpdir(), 'irma-tls-'));
    try {
      const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
      for (const n of ['a', 'b']) {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
          '-keyout', join(dir, `${n}.key`), '-out', join(dir, `${n}.crt`), '-days', '1', '-subj', '/CN=localhost'],
        { stdio: 'ignore' });
      }
      const ok = validateOptions(dev({ url: 'http://h:port', tlsCert: pem('a.crt'), tlsPrivkey: pem('a.key') }));
      expect(ok.url).toBe('https://h:8088/irma/');
      expect(failure(dev({ tlsCert: pem('a.crt') })).message).toBe(
        'failed to read TLS configuration: provide either key or path to key',
      );
      expect(failure(dev({ tlsCert: pem('a.crt'), tlsPrivkey: pem('b.key') })).message).toMatch(
        /^failed to read TLS configuration: /,
      );
      expect(failure(dev({ clientPort: 9000, clientTlsCert: 'x', clientTlsPrivkey: pem('a.key') })).message).toMatch(
        /^failed to read client TLS configuration: /,
      );
      // The client listener's TLS decides the scheme of the URL the app uses.
      const c = validateOptions(dev({ url: 'http://h:port', clientPort: 9000, clientTlsCert: pem('b.crt'), clientTlsPrivkey: pem('b.key') }));
      expect(c.url).toBe('https://h:9000/irma/');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('JWT private key must be an RSA private key', () => {
    expect(validateOptions(dev({ jwtPrivateKey: jwtSk })).jwtPrivateKey).toBe(jwtSk);
    expect(failure(dev({ jwtPrivateKey: 'nope' })).message).toMatch(/^failed to read private key: /);
    expect(failure(dev({ jwtPrivateKey: requestor1Pem })).message).toMatch(/^failed to read private key: /);
  });

  it('static sessions', () => {
    const disclose = { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]] };
    const good = { request: disclose, callbackUrl: 'https://example.com/cb' };
    expect(failure(dev({ staticSessions: { s: good } })).message).toBe(
      'static sessions configured but no JWT private key is installed: either install JWT or enable allow_unsigned_callbacks in configuration',
    );
    expect(validateOptions(dev({ staticSessions: { s_1: good }, jwtPrivateKey: jwtSk })).staticSessions).toEqual({ s_1: good });
    const withUnsigned = (s: Record<string, unknown>) => failure(dev({ allowUnsignedCallbacks: true, staticSessions: s })).message;
    expect(withUnsigned({ 'a-b': good })).toBe('static session name a-b not allowed, must be alphanumeric');
    expect(withUnsigned({ s: disclose })).toMatch(/^failed to parse static session request s: /);
    expect(withUnsigned({ s: { request: { ...disclose, '@context': 'https://irma.app/ld/request/issuance/v2' }, callbackUrl: 'x' } })).toBe(
      'static session s must be either a disclosing or signing session',
    );
    expect(withUnsigned({ s: { request: disclose } })).toBe('static session s has no callback URL or next session URL');
    expect(validateOptions(dev({ allowUnsignedCallbacks: true, staticSessions: { s: { request: disclose, nextSession: { url: 'https://n' } } } })).staticSessions).toHaveProperty('s');
  });

  it('numbers: request age, lifetimes, verbosity', () => {
    expect(failure(dev({ maxRequestAge: 0 })).message).toBe('max_request_age must be positive (was 0)');
    expect(failure(dev({ maxSessionLifetime: -1 })).message).toBe('max_session_lifetime must not be negative');
    expect(failure(dev({ verbose: 3 })).message).toBe('verbose must be 0, 1 or 2 (was 3)');
  });

  it('store type and Redis options (through the store\'s own checks)', () => {
    expect(failure(dev({ storeType: 'etcd' as never })).message).toBe('store_type must be "memory" or "redis" (was "etcd")');
    expect(failure(dev({ storeType: 'redis', redis: {} })).message).toBe(
      'When Redis is used as session data store, either --redis-addr or --redis-sentinel-addrs must be specified.',
    );
    expect(failure(dev({ storeType: 'redis', redis: { redisAddr: 'localhost:6379' } })).message).toMatch(
      /a non-empty Redis password must be specified with the --redis-pw flag/,
    );
    expect(failure(dev({ storeType: 'redis', redis: { redisAddr: 'h:1', redisPw: 'pw', redisNoTls: true, redisTlsCert: 'PEM' } })).message).toBe(
      'redis TLS config failed: Redis TLS cannot be disabled when a Redis TLS certificate is specified.',
    );
    expect(failure(dev({ storeType: 'redis', redis: { redisSentinelAddrs: ['h:1'], redisSentinelMasterName: 'm', redisPw: 'pw' } })).message).toMatch(
      /^inconsistency risk not accepted/,
    );
    expect(failure(dev({ storeType: 'redis', redis: { redisAddr: 'h:1', redisPw: 'pw', storeEncryptionKeys: [{ id: 'k', key: 'c2hvcnQ=' }] } })).message).toMatch(
      /^store_encryption_keys: .*32 bytes/,
    );
    // SSE with Redis is deliberately allowed (status changes travel over pub/sub).
    const o = validateOptions(dev({ sse: true, storeType: 'redis', redis: { redisAddr: 'h:1', redisPw: 'pw', redisNoTls: true } }));
    expect(o.sse).toBe(true);
  });
});

describe('validateOptionsAgainstSchemes', () => {
  let schemes: SchemeRegistry;
  beforeAll(async () => {
    schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  });
  afterAll(() => undefined);

  const check = (o: Partial<ServerOptions>) => validateOptionsAgainstSchemes(validateOptions(dev(o)), schemes);
  const problems = (o: Partial<ServerOptions>): string[] => {
    try {
      check(o);
    } catch (e) {
      expect(e).toBeInstanceOf(OptionsError);
      return (e as OptionsError).problems;
    }
    return [];
  };

  it('accepts known identifiers and installed private keys', () => {
    expect(problems({
      disclosePerms: ['irma-demo.MijnOverheid.fullName.firstname', 'irma-demo.RU.*', 'test.*', '*'],
      issuePerms: ['irma-demo.MijnOverheid.fullName', 'irma-demo.stemmen.*'],
    })).toEqual([]);
  });

  it('names every unknown identifier and missing private key', () => {
    expect(problems({
      disclosePerms: ['nope.a.b.c', 'irma-demo.Nobody.x.y', 'irma-demo.MijnOverheid.nothing.x', 'irma-demo.MijnOverheid.fullName.shoesize'],
      issuePerms: ['irma-demo.RU.studentCard'],
    })).toEqual([
      "Global issuing permission 'irma-demo.RU.studentCard': private key not installed",
      "Global disclosing permission 'nope.a.b.c': unknown scheme",
      "Global disclosing permission 'irma-demo.Nobody.x.y': unknown issuer",
      "Global disclosing permission 'irma-demo.MijnOverheid.nothing.x': unknown credential type",
      "Global disclosing permission 'irma-demo.MijnOverheid.fullName.shoesize': unknown attribute type",
    ]);
    expect(problems({ issuePerms: ['irma-demo.RU.studentCard'], skipPrivateKeysCheck: true })).toEqual([]);
  });

  it('production without requestor authentication refuses to expose non-demo issuer keys', () => {
    expect(havePrivateKeys(schemes)).toBe(false); // the reference schemes are all demo schemes
    const asProduction: SchemeRegistry = Object.assign(Object.create(schemes) as SchemeRegistry, {
      scheme: (id: string) => {
        const s = schemes.scheme(id);
        return s && { ...s, demo: false };
      },
    });
    expect(havePrivateKeys(asProduction)).toBe(true);
    const o = validateOptions(prod({ noAuth: true, requestors: {}, issuePerms: ['irma-demo.MijnOverheid.fullName'] }));
    expect(() => validateOptionsAgainstSchemes(o, asProduction)).toThrow(
      'If issuing is enabled in production mode, requestor authentication must be enabled, or client_listen_addr and client_port must be used',
    );
    expect(() => validateOptionsAgainstSchemes({ ...o, clientPort: 9000 }, asProduction)).not.toThrow();
    expect(() => validateOptionsAgainstSchemes({ ...o, issuePerms: [] }, asProduction)).not.toThrow();
    expect(() => validateOptionsAgainstSchemes(o, schemes)).not.toThrow();
  });
});
