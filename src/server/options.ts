// The server's configuration: every option of the reference `irma server` we support (spec §10), in
// camelCase. Free of I/O: files (`*_file` twins, config files, the dev URL's local IP) are resolved by
// the CLI layer, so the server can also be embedded with options built in code.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { SchemeRegistry } from '../scheme/types.js';
import type { RevocationSetting } from '../revocation/settings.js';
import { createValueCodec } from '../store/encryption.js';
import { RedisConfigError, resolveRedisOptions, type RedisStoreOptions } from '../store/redis-options.js';
import { checkLimits, type Limits } from './limits.js';

export type { RedisStoreOptions };

export type AuthMethod = 'token' | 'hmac' | 'publickey';

export interface RequestorOptions {
  authMethod: AuthMethod;
  /** token: the raw token; hmac: base64 secret; publickey: PEM RSA public key. Verbatim from `key_file`. */
  key: string;
  disclosePerms?: string[];
  signPerms?: string[];
  issuePerms?: string[];
  revokePerms?: string[];
  /** Globs (`*.example.com`) the request's `host` must match; without them only the host of `url`. */
  hostPerms?: string[];
}

export interface ServerOptions {
  /** Stricter defaults and checks (no_auth off, no issuance by default, https required). */
  production: boolean;
  /**
   * External URL of the server as the app reaches it; '' = none (the CLI's development default is
   * http://<local IPv4>:port). After validateOptions it is the full client base, ending in `irma/`
   * (e.g. `https://example.com/irma/`), with `:port` replaced and http -> https when the app's
   * listener has TLS, exactly as the reference's configuration normalises it.
   */
  url: string;
  /** Main listener (requestor API, and the client API unless clientPort is set). */
  port: number;
  /** '' = all interfaces. */
  listenAddr: string;
  /** Separate listener serving only `/irma`; 0 = none. */
  clientPort: number;
  clientListenAddr: string;
  /** Prefix of every route; must start with `/`. */
  apiPrefix: string;
  /** PEM certificate chain / private key of the main listener. */
  tlsCert?: string;
  tlsPrivkey?: string;
  /** PEM certificate chain / private key of the client listener. */
  clientTlsCert?: string;
  clientTlsPrivkey?: string;
  /** Allows a non-https `url` in production. */
  noTls: boolean;
  /** Anyone may start sessions (JSON bodies without Authorization); `requestors` must then be empty. */
  noAuth: boolean;
  requestors: Record<string, RequestorOptions>;
  /** Global permissions, united with each requestor's. */
  disclosePerms: string[];
  signPerms: string[];
  issuePerms: string[];
  revokePerms: string[];
  /** Allow issue permissions for credential types whose issuer private key is not installed. */
  skipPrivateKeysCheck: boolean;
  /** Seconds a request JWT stays acceptable after its `iat`. */
  maxRequestAge: number;
  /** `iss` of result JWTs. */
  jwtIssuer: string;
  /** PEM RSA private key for result JWTs and signed callbacks. */
  jwtPrivateKey?: string;
  /** Allow callbackUrl in requests although no jwtPrivateKey is configured. */
  allowUnsignedCallbacks: boolean;
  /** Add `?token=<rt>` to the client return URL. */
  augmentClientReturnUrl: boolean;
  /** Session name -> extended session request (JSON object), started at /irma/session/<name>. */
  staticSessions: Record<string, unknown>;
  /** Minutes an unfinished session lives. */
  maxSessionLifetime: number;
  /** Minutes a finished session's result remains available. */
  sessionResultLifetime: number;
  /** Server-sent events for status updates. Unlike the reference, also with the Redis store. */
  sse: boolean;
  storeType: 'memory' | 'redis';
  /** Only read when storeType is 'redis'. */
  redis: RedisStoreOptions;
  /** irma_configuration folder. */
  schemesPath: string;
  /** Folder with extra issuer private keys (`<scheme>.<issuer>.xml` / `<scheme>.<issuer>.<counter>.xml`). */
  privkeys?: string;
  /** Folder served as static files under staticPrefix; '' = none. */
  staticPath: string;
  staticPrefix: string;
  /** 0 info, 1 debug, 2 trace. */
  verbose: number;
  /** Only errors. */
  quiet: boolean;
  logJson: boolean;
  /** Accept app protocol versions below 2.5 (legacy). */
  acceptInsecureProtocolVersions?: boolean;
  /** Worker threads for proof verification and issuance; 0 or absent = on the server's own thread. */
  cryptoWorkers?: number;
  /** SD-JWT VC issuance (key `sdjwtvc`): absent = off; when present both directories are required. */
  sdjwtvc?: SdJwtVcOptions;
  /** Request, session, stream and connection limits (limits.ts); absent ones take their defaults. */
  limits?: Partial<Limits>;
  /**
   * Separate listener for /metrics and the health checks; 0 = none, and then /metrics is on the
   * main listener in development only (see src/server/metrics-http.ts).
   */
  metricsPort?: number;
  /** Address of the metrics listener; '' = loopback only. */
  metricsListenAddr?: string;
  /** Minutes between scheme update checks by `irma-server server`; 0 = never (default 60, as the reference). */
  schemesUpdate?: number;
  /** Seconds a stopping server lets requests in flight finish (default 15). */
  shutdownGracePeriod?: number;
  /** Session starts per window per client address; 0 = none; absent = 120 in production, else none. */
  sessionRateLimitAddress?: number;
  /**
   * Reverse proxies whose X-Forwarded-For header names the client (addresses, CIDR ranges, or
   * loopback / linklocal / uniquelocal): the per-address session rate limit then counts the
   * address the nearest untrusted hop gave. Empty: the connection's own address counts.
   */
  trustedProxies?: string[];
  /** Session starts per window per requestor; 0 = none; absent = 6000 in production, else none. */
  sessionRateLimitRequestor?: number;
  /** Seconds of the session rate-limit window (default 60). */
  sessionRateLimitWindow?: number;
  /** revocation_settings: credential type -> role (see src/revocation/settings.ts). */
  revocationSettings?: Record<string, Partial<RevocationSetting>>;
  /** revocation_db_type: only 'postgres'. */
  revocationDbType?: string;
  /** revocation_db_str: '' = in memory (no authority, no issuance records). */
  revocationDbStr?: string;
}

/** Folders of `<scheme>.<issuer>.pem` files: certificate chains (leaf first) and P-256 private keys. */
export interface SdJwtVcOptions {
  issuerCertificatesDir: string;
  issuerPrivateKeysDir: string;
}

/** A configuration the server refuses to start with. `problems` lists each finding (one or more). */
export class OptionsError extends Error {
  readonly problems: string[];
  constructor(message: string, problems: string[] = [message]) {
    super(message);
    this.name = 'OptionsError';
    this.problems = problems;
  }
}

export const DEFAULT_PORT = 8088;
export const DEFAULT_MAX_SESSION_LIFETIME = 15;
export const DEFAULT_SESSION_RESULT_LIFETIME = 5;
export const DEFAULT_MAX_REQUEST_AGE = 300;
export const DEFAULT_JWT_ISSUER = 'irmaserver';
export const MAX_CRYPTO_WORKERS = 64;

/**
 * One crypto worker per core, at most 16: workers start with the first session, and a core's
 * worker leaves the event loop free even on a one-core machine.
 */
export function defaultCryptoWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, 16));
}

/**
 * The reference CLI's defaults. Production flips no_auth off and grants no issuance by default.
 * `url` stays '' here: the development default (http://<local IPv4>:port) needs the machine's
 * interfaces, so the CLI fills it in.
 */
export function defaultOptions(production: boolean): ServerOptions {
  return {
    production,
    url: '',
    port: DEFAULT_PORT,
    listenAddr: '',
    clientPort: 0,
    clientListenAddr: '',
    apiPrefix: '/',
    noTls: false,
    noAuth: !production,
    requestors: {},
    disclosePerms: ['*'],
    signPerms: ['*'],
    issuePerms: production ? [] : ['*'],
    revokePerms: [],
    skipPrivateKeysCheck: false,
    maxRequestAge: DEFAULT_MAX_REQUEST_AGE,
    jwtIssuer: DEFAULT_JWT_ISSUER,
    allowUnsignedCallbacks: false,
    augmentClientReturnUrl: false,
    staticSessions: {},
    maxSessionLifetime: DEFAULT_MAX_SESSION_LIFETIME,
    sessionResultLifetime: DEFAULT_SESSION_RESULT_LIFETIME,
    sse: false,
    storeType: 'memory',
    redis: {},
    schemesPath: '',
    staticPath: '',
    staticPrefix: '/',
    verbose: 0,
    quiet: false,
    logJson: false,
    cryptoWorkers: defaultCryptoWorkers(),
  };
}

const AUTH_METHODS: readonly AuthMethod[] = ['token', 'hmac', 'publickey'];
const STATIC_SESSION_NAME = /^[a-zA-Z0-9_]+$/;
const DISCLOSURE_CONTEXT = 'https://irma.app/ld/request/disclosure/v2';
const SIGNATURE_CONTEXT = 'https://irma.app/ld/request/signature/v2';

/**
 * The startup checks of spec §10 that need no schemes. Returns a normalised copy (URL and prefixes
 * ending in `/`, `irma/` appended to the URL, `:port` replaced, lifetimes of 0 set to their
 * defaults); throws OptionsError with the reference's message where it has one. Its only reads
 * are the Redis TLS PEM files named in `redis`, which the store's own option check loads.
 */
export function validateOptions(input: ServerOptions): ServerOptions {
  const o: ServerOptions = structuredClone(input);

  if (o.noAuth) {
    if (Object.keys(o.requestors).length !== 0) {
      throw new OptionsError('Requestors must not be configured when requestor authentication is disabled');
    }
  } else {
    if (Object.keys(o.requestors).length === 0) {
      throw new OptionsError(
        'No requestors configured; either configure one or more requestors or disable requestor authentication',
      );
    }
    checkRequestors(o.requestors);
  }

  checkInteger('port', o.port);
  if (o.port <= 0 || o.port > 65535) throw new OptionsError(`Port must be between 1 and 65535 (was ${o.port})`);
  checkInteger('client_port', o.clientPort);
  if (o.clientPort !== 0 && o.clientPort === o.port) {
    throw new OptionsError('If client_port is given it must be different from port');
  }
  if (o.clientPort < 0 || o.clientPort > 65535) {
    throw new OptionsError(`client_port must be between 0 and 65535 (was ${o.clientPort})`);
  }
  if (o.clientListenAddr !== '' && o.clientPort === 0) {
    throw new OptionsError('client_listen_addr must be combined with a nonzero client_port');
  }

  const tls = checkTls('failed to read TLS configuration', o.tlsCert, o.tlsPrivkey);
  const clientTls = checkTls('failed to read client TLS configuration', o.clientTlsCert, o.clientTlsPrivkey);

  checkPermissionSyntax(o);

  if (o.staticPath !== '') {
    if (!o.staticPrefix.startsWith('/')) {
      throw new OptionsError('static_prefix must start with a slash, was ' + o.staticPrefix);
    }
    if (o.staticPrefix.length > 1 && !o.staticPrefix.endsWith('/')) o.staticPrefix += '/';
  }

  if (!o.apiPrefix.endsWith('/')) o.apiPrefix += '/';
  if (!o.apiPrefix.startsWith('/')) {
    throw new OptionsError(`api_prefix must start with a slash, but doesn't: ${o.apiPrefix}`);
  }

  if (o.url !== '') {
    if (!o.url.endsWith('/')) o.url += '/';
    if (!o.url.endsWith('irma/')) o.url += 'irma/';
    const port = o.clientPort !== 0 ? o.clientPort : o.port;
    o.url = o.url.replace(/^(https?:\/\/[^/]*):port/, `$1:${port}`);
    const listenerHasTls = o.clientPort !== 0 ? clientTls : tls;
    if (listenerHasTls && o.url.startsWith('http://')) o.url = 'https://' + o.url.slice('http://'.length);
    if (!o.url.startsWith('https://') && o.production && !o.noTls) {
      throw new OptionsError(
        'Running without TLS in production mode is unsafe without a reverse proxy. ' +
          'Either use a https:// URL or explicitly disable TLS.',
      );
    }
    try {
      new URL(o.url);
    } catch {
      throw new OptionsError(`url is not a valid URL: ${o.url}`);
    }
  }

  checkInteger('max_request_age', o.maxRequestAge);
  if (o.maxRequestAge <= 0) throw new OptionsError(`max_request_age must be positive (was ${o.maxRequestAge})`);
  checkInteger('max_session_lifetime', o.maxSessionLifetime);
  checkInteger('session_result_lifetime', o.sessionResultLifetime);
  if (o.maxSessionLifetime < 0) throw new OptionsError('max_session_lifetime must not be negative');
  if (o.sessionResultLifetime < 0) throw new OptionsError('session_result_lifetime must not be negative');
  if (o.maxSessionLifetime === 0) o.maxSessionLifetime = DEFAULT_MAX_SESSION_LIFETIME;
  if (o.sessionResultLifetime === 0) o.sessionResultLifetime = DEFAULT_SESSION_RESULT_LIFETIME;

  if (o.jwtPrivateKey !== undefined) {
    try {
      const key = createPrivateKey(o.jwtPrivateKey);
      if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA private key');
    } catch (e) {
      throw new OptionsError(`failed to read private key: ${errorText(e)}`);
    }
  }

  checkStaticSessions(o);

  if (o.storeType !== 'memory' && o.storeType !== 'redis') {
    throw new OptionsError(`store_type must be "memory" or "redis" (was "${String(o.storeType)}")`);
  }
  if (o.storeType === 'redis') checkRedis(o.redis);
  checkInteger('verbose', o.verbose);
  if (o.verbose < 0 || o.verbose > 2) throw new OptionsError(`verbose must be 0, 1 or 2 (was ${o.verbose})`);
  if (o.schemesPath === '') throw new OptionsError('schemes_path must be given');
  if (o.sdjwtvc && !o.sdjwtvc.issuerPrivateKeysDir) {
    throw new OptionsError('sdjwtvc issuance was enabled but no sdjwtvc private keys directory was provided');
  }
  if (o.sdjwtvc && !o.sdjwtvc.issuerCertificatesDir) {
    throw new OptionsError('sdjwtvc issuance was enabled but no sdjwtvc certificates directory was provided');
  }
  if (o.metricsPort !== undefined) {
    checkInteger('metrics_port', o.metricsPort);
    if (o.metricsPort < 0 || o.metricsPort > 65535) throw new OptionsError(`metrics_port must be between 0 and 65535 (was ${o.metricsPort})`);
    if (o.metricsPort !== 0 && (o.metricsPort === o.port || o.metricsPort === o.clientPort)) {
      throw new OptionsError('If metrics_port is given it must be different from port and client_port');
    }
  }
  if (o.schemesUpdate !== undefined) {
    checkInteger('schemes_update', o.schemesUpdate);
    if (o.schemesUpdate < 0) throw new OptionsError('schemes_update must not be negative');
  }
  if (o.cryptoWorkers !== undefined) {
    checkInteger('crypto_workers', o.cryptoWorkers);
    if (o.cryptoWorkers < 0 || o.cryptoWorkers > MAX_CRYPTO_WORKERS) {
      throw new OptionsError(`crypto_workers must be between 0 and ${MAX_CRYPTO_WORKERS} (was ${o.cryptoWorkers})`);
    }
  }
  checkLimits(o.limits);

  return o;
}

/**
 * The checks that need the loaded schemes: every identifier in a permission exists, issue and revoke
 * permissions have an installed private key (unless skipPrivateKeysCheck), and production without
 * requestor authentication refuses to expose installed issuer keys on the main port.
 */
export function validateOptionsAgainstSchemes(o: ServerOptions, schemes: SchemeRegistry): void {
  const errors: string[] = [];
  forEachPermissionSet(o, (owner, kind, perms) => {
    for (const perm of perms) {
      const problem = permissionTargetProblem(kind, perm, schemes, o.skipPrivateKeysCheck);
      if (problem) errors.push(`${owner} ${kind} permission '${perm}': ${problem}`);
    }
  });
  if (errors.length > 0) {
    throw new OptionsError('Errors encountered in permissions:\n' + errors.join('\n'), errors);
  }

  if (o.noAuth && o.production && o.clientPort === 0 && o.issuePerms.length > 0 && havePrivateKeys(schemes)) {
    throw new OptionsError(
      'If issuing is enabled in production mode, requestor authentication must be enabled, or client_listen_addr and client_port must be used',
    );
  }
}

/** Whether an issuer of a non-demo scheme has a private key installed (demo keys are public anyway). */
export function havePrivateKeys(schemes: SchemeRegistry): boolean {
  for (const issuer of schemes.issuers.values()) {
    if (schemes.scheme(issuer.schemeId)?.demo) continue;
    if (schemes.latestPrivateKey(issuer.id)) return true;
  }
  return false;
}

/** SSE works with Redis here (status changes travel over pub/sub), so unlike the reference it is allowed. */
function checkRedis(redis: RedisStoreOptions): void {
  try {
    resolveRedisOptions(redis);
  } catch (e) {
    if (e instanceof RedisConfigError) throw new OptionsError(e.message);
    throw e;
  }
  try {
    createValueCodec(redis.storeEncryptionKeys ?? []);
  } catch (e) {
    throw new OptionsError(`store_encryption_keys: ${errorText(e)}`);
  }
}

function checkInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new OptionsError(`${name} must be an integer (was ${String(value)})`);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkRequestors(requestors: Record<string, RequestorOptions>): void {
  const tokenOwners = new Map<string, string>();
  for (const [name, r] of Object.entries(requestors)) {
    if (!AUTH_METHODS.includes(r.authMethod)) {
      throw new OptionsError(
        `Requestor ${name} has unsupported authentication type ${String(r.authMethod)} (supported methods: token, hmac, publickey)`,
      );
    }
    if (typeof r.key !== 'string' || r.key === '') {
      throw new OptionsError(`failed to read key of requestor ${name}: provide either key or path to key`);
    }
    if (r.authMethod === 'hmac' && decodeAnyBase64(r.key) === undefined) {
      throw new OptionsError(`failed to base64 decode hmac key of requestor ${name}: illegal base64 data`);
    }
    if (r.authMethod === 'publickey') {
      try {
        const key = createPublicKey(r.key);
        if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA public key');
      } catch (e) {
        throw new OptionsError(`failed to read public key of requestor ${name}: ${errorText(e)}`);
      }
    }
    if (r.authMethod === 'token') {
      // The token identifies the requestor, so two requestors with one token would be indistinguishable.
      const other = tokenOwners.get(r.key);
      if (other !== undefined) throw new OptionsError(`Requestors ${other} and ${name} have the same token`);
      tokenOwners.set(r.key, name);
    }
  }
}

/**
 * hmac keys may be standard or URL-safe base64, padded or not (the reference tries each).
 * Line breaks are ignored. Returns the decoded bytes, or undefined when the text is no base64 of any kind.
 */
export function decodeAnyBase64(text: string): Buffer | undefined {
  // Go's decoders skip line breaks, so a key_file ending in a newline is a valid key there too.
  const trimmed = text.replace(/[\r\n]/g, '').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(trimmed) && !/^[A-Za-z0-9_-]*$/.test(trimmed)) return undefined;
  if (trimmed.length % 4 === 1) return undefined;
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Returns whether TLS is configured; a certificate without key (or vice versa) is an error. */
function checkTls(what: string, cert: string | undefined, key: string | undefined): boolean {
  if (!cert && !key) return false;
  if (!cert || !key) throw new OptionsError(`${what}: provide either key or path to key`);
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('private key does not match public key');
  } catch (e) {
    throw new OptionsError(`${what}: ${errorText(e)}`);
  }
  return true;
}

type PermissionKind = 'issuing' | 'signing' | 'disclosing' | 'revoking';
const PERMISSION_PARTS: Record<PermissionKind, number> = { issuing: 3, signing: 4, disclosing: 4, revoking: 3 };

function forEachPermissionSet(
  o: ServerOptions,
  visit: (owner: string, kind: PermissionKind, perms: string[]) => void,
): void {
  const sets: [string, Partial<Pick<ServerOptions, 'issuePerms' | 'signPerms' | 'disclosePerms' | 'revokePerms'>>][] =
    [['Global', o]];
  for (const [name, r] of Object.entries(o.requestors)) sets.push([`Requestor ${name}`, r]);
  for (const [owner, s] of sets) {
    visit(owner, 'issuing', s.issuePerms ?? []);
    visit(owner, 'signing', s.signPerms ?? []);
    visit(owner, 'disclosing', s.disclosePerms ?? []);
    visit(owner, 'revoking', s.revokePerms ?? []);
  }
}

function checkPermissionSyntax(o: ServerOptions): void {
  const errors: string[] = [];
  forEachPermissionSet(o, (owner, kind, perms) => {
    if (!Array.isArray(perms) || perms.some((p) => typeof p !== 'string')) {
      errors.push(`${owner} ${kind} permissions must be a list of strings`);
      return;
    }
    for (const perm of perms) errors.push(...permissionSyntaxProblems(owner, kind, perm));
  });
  if (errors.length > 0) {
    throw new OptionsError('Errors encountered in permissions:\n' + errors.join('\n'), errors);
  }
}

function permissionSyntaxProblems(owner: string, kind: PermissionKind, perm: string): string[] {
  const problems: string[] = [];
  const stars = perm.split('*').length - 1;
  if (stars === 1 && !perm.endsWith('*')) {
    problems.push(`${owner} ${kind} permission '${perm}' contains asterisk not at end of line`);
  } else if (stars > 1) {
    problems.push(`${owner} ${kind} permission '${perm}' contains too many asterisks (at most 1 permitted)`);
  }
  const parts = perm.split('.');
  const want = PERMISSION_PARTS[kind];
  if (parts[parts.length - 1] === '*') {
    if (parts.length > want) problems.push(`${owner} ${kind} permission '${perm}' should have at most ${want} parts`);
  } else if (parts.length !== want) {
    problems.push(`${owner} ${kind} permission '${perm}' should have ${want} parts`);
  }
  return problems;
}

/** What is wrong with the identifiers a permission names, or undefined. Parts are checked in order. */
function permissionTargetProblem(
  kind: PermissionKind,
  perm: string,
  schemes: SchemeRegistry,
  skipPrivateKeysCheck: boolean,
): string | undefined {
  const parts = perm.split('.');
  if (parts[0] === '*') return undefined;
  if (!schemes.scheme(parts[0])) return 'unknown scheme';
  if (parts.length < 2 || parts[1] === '*') return undefined;
  const issuerId = parts.slice(0, 2).join('.');
  if (!schemes.issuer(issuerId)) return 'unknown issuer';
  if (parts.length < 3 || parts[2] === '*') return undefined;
  if (!schemes.credentialType(parts.slice(0, 3).join('.'))) return 'unknown credential type';
  if ((kind === 'issuing' || kind === 'revoking') && !skipPrivateKeysCheck && !schemes.latestPrivateKey(issuerId)) {
    return 'private key not installed';
  }
  if (kind === 'revoking' && !skipPrivateKeysCheck && schemes.latestPrivateKey(issuerId)?.ecdsa === undefined) {
    return 'private key has no revocation key material (add it with "irma-server scheme issuer revocation-keypair")';
  }
  if (parts.length < 4 || parts[3] === '*') return undefined;
  if (!schemes.attributeType(parts.slice(0, 4).join('.'))) return 'unknown attribute type';
  return undefined;
}

/**
 * Static sessions are started by anyone who knows the name, so they are limited to disclosure and
 * signatures and must deliver their result somewhere (callback or next session). The full request
 * validation against the schemes happens when the server parses them.
 */
function checkStaticSessions(o: ServerOptions): void {
  const names = Object.keys(o.staticSessions);
  if (names.length > 0 && o.jwtPrivateKey === undefined && !o.allowUnsignedCallbacks) {
    throw new OptionsError(
      'static sessions configured but no JWT private key is installed: either install JWT or enable allow_unsigned_callbacks in configuration',
    );
  }
  for (const name of names) {
    if (!STATIC_SESSION_NAME.test(name)) {
      throw new OptionsError(`static session name ${name} not allowed, must be alphanumeric`);
    }
    const ext = o.staticSessions[name];
    if (!isObject(ext) || !isObject(ext.request) || typeof ext.request['@context'] !== 'string') {
      throw new OptionsError(
        `failed to parse static session request ${name}: expected an extended request {"request": {"@context": ...}, ...}`,
      );
    }
    const context = ext.request['@context'];
    if (context !== DISCLOSURE_CONTEXT && context !== SIGNATURE_CONTEXT) {
      throw new OptionsError(`static session ${name} must be either a disclosing or signing session`);
    }
    const next = ext.nextSession;
    const hasNext = isObject(next) && typeof next.url === 'string' && next.url !== '';
    if (!(typeof ext.callbackUrl === 'string' && ext.callbackUrl !== '') && !hasNext) {
      throw new OptionsError(`static session ${name} has no callback URL or next session URL`);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
