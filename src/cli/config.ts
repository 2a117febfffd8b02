// Loading ServerOptions the way the reference does: flag > env IRMASERVER_* > config file > defaults.
// Values are first collected per snake_case key (with the source that won), then coerced by kind,
// then assembled; key/`_file` twins and requestor key files are read here, so ServerOptions only
// ever holds the key material itself.
import { readFileSync, statSync } from 'node:fs';
import { networkInterfaces, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  defaultOptions,
  OptionsError,
  type AuthMethod,
  type RequestorOptions,
  type ServerOptions,
} from '../server/options.js';
import { LIMIT_KEYS, type Limits } from '../server/limits.js';
import { isTrustedProxy } from '../server/trusted-proxies.js';
import { findConfigFile, readConfigFile } from './config-file.js';
import { envName, OPTION_SPECS, type OptionSpec } from './option-specs.js';
import { describeParseError } from './parse-error.js';
import { parseKeyRing, redisOptionsFrom } from './redis-config.js';
import { sdjwtvcOptionsFrom } from './sdjwtvc-config.js';
import { readSecretFiles } from './secret-files.js';
import { checkFileKeys, checkSecretNotEmpty, closest, unknownEnvWarnings, unsupportedError } from './strict-config.js';
import type { RevocationSetting } from '../revocation/settings.js';

export type ValueSource = 'flag' | 'env' | 'file';

export interface ConfigInput {
  /** Flag values by snake_case key, only those given on the command line. */
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface LoadedConfig {
  /** Not yet validated (see validateOptions); schemesPath is '' when the demo scheme is to be used. */
  options: ServerOptions;
  /** The config file read, if any. */
  configFile?: string;
  /** Which source set each key that was set. */
  sources: Map<string, ValueSource>;
  /** Problems that do not stop the server: unknown IRMASERVER_* variables, deprecated options. */
  warnings: string[];
  /** Development mode without schemes_path: generate and use the demo scheme in dataDir. */
  useDemoScheme: boolean;
  dataDir: string;
  /** With useDemoScheme: also try to download the reference's default schemes into dataDir. */
  downloadDefaultSchemes: boolean;
}

/** Where the development demo scheme lives unless data_dir says otherwise. */
export function defaultDataDir(env: Record<string, string | undefined>): string {
  return join(env.HOME || homedir(), '.irma-server-ts');
}

export function loadConfig(input: ConfigInput): LoadedConfig {
  const { flags, env, cwd } = input;
  const warnings: string[] = [];

  const explicitConfig = flags.config ?? nonEmpty(env[envName('config')]);
  if (explicitConfig !== undefined && typeof explicitConfig !== 'string') {
    throw new OptionsError('config must be a path');
  }
  const configFile = findConfigFile(explicitConfig, cwd, env.HOME || homedir());
  const fileValues = configFile ? readConfigFile(configFile) : {};
  if (configFile) checkFileKeys(Object.keys(fileValues), configFile);
  warnings.push(...unknownEnvWarnings(env));

  // Every key resolved once, with the source that won, so `_file` twins and list/map options follow
  // the same precedence as everything else.
  const values = new Map<string, unknown>();
  const sources = new Map<string, ValueSource>();
  for (const spec of OPTION_SPECS) {
    if (spec.key === 'config') continue;
    const resolved = resolveValue(spec, flags, env, fileValues, configFile);
    if (!resolved) continue;
    values.set(spec.key, resolved.value);
    sources.set(spec.key, resolved.source);
    if (spec.ignored) throw unsupportedError(spec, resolved.source, configFile);
    if (spec.deprecated) warnings.push(`option ${spec.key} is deprecated and ignored`);
  }
  readSecretFiles(values, sources, cwd, configFile);

  const get = <T>(key: string): T | undefined => values.get(key) as T | undefined;
  const production = get<boolean>('production') ?? false;
  const o = defaultOptions(production);

  const set = <K extends keyof ServerOptions>(field: K, key: string): void => {
    const v = get<ServerOptions[K]>(key);
    if (v !== undefined) o[field] = v;
  };
  set('url', 'url');
  if (!values.has('url') && !production) o.url = developmentUrl();
  set('port', 'port');
  set('listenAddr', 'listen_addr');
  set('clientPort', 'client_port');
  set('clientListenAddr', 'client_listen_addr');
  set('apiPrefix', 'api_prefix');
  set('noTls', 'no_tls');
  set('noAuth', 'no_auth');
  set('disclosePerms', 'disclose_perms');
  set('signPerms', 'sign_perms');
  set('issuePerms', 'issue_perms');
  set('revokePerms', 'revoke_perms');
  set('skipPrivateKeysCheck', 'skip_private_keys_check');
  set('maxRequestAge', 'max_request_age');
  set('jwtIssuer', 'jwt_issuer');
  set('allowUnsignedCallbacks', 'allow_unsigned_callbacks');
  set('augmentClientReturnUrl', 'augment_client_return_url');
  set('maxSessionLifetime', 'max_session_lifetime');
  set('sessionResultLifetime', 'session_result_lifetime');
  set('sse', 'sse');
  set('schemesPath', 'schemes_path');
  set('privkeys', 'privkeys');
  set('staticPath', 'static_path');
  set('staticPrefix', 'static_prefix');
  set('verbose', 'verbose');
  set('quiet', 'quiet');
  set('logJson', 'log_json');
  set('acceptInsecureProtocolVersions', 'accept_insecure_protocol_versions');
  set('cryptoWorkers', 'crypto_workers');
  for (const [field, key] of Object.entries(LIMIT_KEYS) as Array<[keyof Limits, string]>) {
    const v = get<number>(key);
    if (v !== undefined) (o.limits ??= {})[field] = v;
  }
  set('metricsPort', 'metrics_port');
  set('metricsListenAddr', 'metrics_listen_addr');
  set('schemesUpdate', 'schemes_update');
  set('shutdownGracePeriod', 'shutdown_grace_period');
  if ((o.shutdownGracePeriod ?? 0) < 0) throw new OptionsError('shutdown_grace_period must not be negative');
  set('sessionRateLimitAddress', 'session_rate_limit_address');
  set('trustedProxies', 'trusted_proxies');
  for (const proxy of o.trustedProxies ?? []) {
    if (!isTrustedProxy(proxy)) throw new OptionsError(`trusted_proxies: "${proxy}" is not an address, a CIDR range (prefix 1 or more), loopback, linklocal or uniquelocal`);
  }
  set('sessionRateLimitRequestor', 'session_rate_limit_requestor');
  set('sessionRateLimitWindow', 'session_rate_limit_window');
  for (const key of ['session_rate_limit_address', 'session_rate_limit_requestor', 'session_rate_limit_window']) {
    if ((get<number>(key) ?? 0) < 0) throw new OptionsError(`${key} must not be negative`);
  }

  const storeType = get<string>('store_type');
  if (storeType !== undefined && storeType !== '') {
    if (storeType !== 'memory' && storeType !== 'redis') {
      throw new OptionsError(`store_type must be "memory" or "redis" (was "${storeType}")`);
    }
    o.storeType = storeType;
  }

  const keyOf = (key: string, what: string): string | undefined =>
    readKey(what, key, get<string>(key), get<string>(`${key}_file`), cwd);
  o.tlsCert = keyOf('tls_cert', 'TLS configuration');
  o.tlsPrivkey = keyOf('tls_privkey', 'TLS configuration');
  o.clientTlsCert = keyOf('client_tls_cert', 'client TLS configuration');
  o.clientTlsPrivkey = keyOf('client_tls_privkey', 'client TLS configuration');
  o.jwtPrivateKey = keyOf('jwt_privkey', 'private key');

  const requestors = get<Record<string, unknown>>('requestors');
  if (requestors) o.requestors = parseRequestors(requestors, cwd, warnings);
  const staticSessions = get<Record<string, unknown>>('static_sessions');
  if (staticSessions) o.staticSessions = staticSessions;
  set('revocationDbType', 'revocation_db_type');
  set('revocationDbStr', 'revocation_db_str');
  const revocationSettings = get<Record<string, unknown>>('revocation_settings');
  if (revocationSettings) o.revocationSettings = parseRevocationSettings(revocationSettings);

  if (o.storeType === 'redis') o.redis = redisOptionsFrom(get, cwd);
  const sdjwtvc = sdjwtvcOptionsFrom(get, cwd, warnings);
  if (sdjwtvc) o.sdjwtvc = sdjwtvc;

  if (o.schemesPath !== '') o.schemesPath = resolve(cwd, o.schemesPath);
  if (o.privkeys !== undefined) o.privkeys = o.privkeys === '' ? undefined : resolve(cwd, o.privkeys);
  if (o.staticPath !== '') o.staticPath = resolve(cwd, o.staticPath);

  const dataDir = get<string>('data_dir') || defaultDataDir(env);
  return {
    options: o,
    configFile,
    sources,
    warnings,
    useDemoScheme: o.schemesPath === '' && !production,
    dataDir: resolve(cwd, dataDir),
    downloadDefaultSchemes: get<boolean>('download_default_schemes') ?? true,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function resolveValue(
  spec: OptionSpec,
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
  file: Record<string, unknown>,
  configFile?: string,
): { value: unknown; source: ValueSource } | undefined {
  if (flags[spec.key] !== undefined) {
    checkSecretNotEmpty(spec, flags[spec.key], 'flag');
    return { value: fromFlag(spec, flags[spec.key]), source: 'flag' };
  }
  // An empty environment variable counts as unset, as in the reference.
  const e = nonEmpty(env[envName(spec.key)]);
  if (e !== undefined) return { value: fromText(spec, e, envName(spec.key)), source: 'env' };
  if (file[spec.key] !== undefined && file[spec.key] !== null) {
    checkSecretNotEmpty(spec, file[spec.key], 'file', configFile);
    return { value: fromFile(spec, file[spec.key]), source: 'file' };
  }
  return undefined;
}

/** Commander already parsed booleans, counts and integers; lists arrive as repeated raw strings. */
function fromFlag(spec: OptionSpec, v: unknown): unknown {
  const where = `--${spec.key.replace(/_/g, '-')}`;
  switch (spec.kind) {
    case 'list':
      return (v as string[]).flatMap((s) => splitList(s, /,/));
    case 'map':
      return parseJsonMap(v as string, where);
    case 'keyring':
      return parseKeyRing(v as string, where);
    case 'int':
      return typeof v === 'number' ? v : parseInteger(String(v), where);
    default:
      return v;
  }
}

function fromText(spec: OptionSpec, text: string, where: string): unknown {
  switch (spec.kind) {
    case 'string':
      return text;
    case 'int':
    case 'count':
      return parseInteger(text, where);
    case 'bool':
      return parseBoolean(text, where);
    case 'list':
      return splitList(text, /[\s,]+/);
    case 'map':
      return parseJsonMap(text, where);
    case 'keyring':
      return parseKeyRing(text, where);
  }
}

function fromFile(spec: OptionSpec, v: unknown): unknown {
  const where = `configuration key ${spec.key}`;
  switch (spec.kind) {
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number') return String(v);
      break;
    case 'int':
    case 'count':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      if (typeof v === 'string') return parseInteger(v, where);
      break;
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return parseBoolean(v, where);
      break;
    case 'list':
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
      if (typeof v === 'string') return splitList(v, /[\s,]+/);
      break;
    case 'map':
      if (typeof v === 'object' && !Array.isArray(v)) return v;
      if (typeof v === 'string') return parseJsonMap(v, where);
      break;
    case 'keyring':
      if (typeof v === 'string') return parseKeyRing(v, where);
      if (Array.isArray(v)) return parseKeyRing(JSON.stringify(v), where);
      break;
  }
  throw new OptionsError(`invalid value for ${where}: expected ${describeKind(spec.kind)}`);
}

function describeKind(kind: OptionSpec['kind']): string {
  return {
    string: 'a string',
    int: 'an integer',
    count: 'an integer',
    bool: 'a boolean',
    list: 'a list of strings',
    map: 'an object',
    keyring: 'a list of {id, key}',
  }[kind];
}

function splitList(text: string, separator: RegExp): string[] {
  return text.split(separator).map((s) => s.trim()).filter((s) => s !== '');
}

export function parseInteger(text: string, where: string): number {
  const t = text.trim();
  const n = Number(t);
  if (!/^[-+]?\d+$/.test(t) || !Number.isSafeInteger(n)) {
    throw new OptionsError(`invalid value for ${where}: "${text}" is not an integer`);
  }
  return n;
}

/** The spellings Go's strconv.ParseBool accepts, plus yes/no. */
export function parseBoolean(text: string, where: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 't', 'true', 'yes', 'y', 'on'].includes(t)) return true;
  if (['0', 'f', 'false', 'no', 'n', 'off'].includes(t)) return false;
  throw new OptionsError(`invalid value for ${where}: "${text}" is not a boolean (use true or false)`);
}

function parseJsonMap(text: string, where: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OptionsError(`failed to unmarshal ${where} from flag or env var: ${describeParseError(e)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new OptionsError(`failed to unmarshal ${where} from flag or env var: expected a JSON object`);
  }
  return v as Record<string, unknown>;
}

/**
 * A key given inline or as a file (exactly one of the pair). The file is read verbatim: a
 * trailing newline stays part of the key, as in the reference.
 */
export function readKey(
  what: string,
  key: string,
  inline: string | undefined,
  file: string | undefined,
  cwd: string,
): string | undefined {
  const hasInline = inline !== undefined && inline !== '';
  const hasFile = file !== undefined && file !== '';
  if (!hasInline && !hasFile) return undefined;
  if (hasInline && hasFile) {
    throw new OptionsError(`failed to read ${what}: provide either key or path to key (${key} and ${key}_file both set)`);
  }
  if (hasInline) return inline;
  return readKeyFile(resolve(cwd, file!), `failed to read ${what} (${key}_file)`);
}

function readKeyFile(path: string, context: string): string {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw new OptionsError(`${context}: failed to stat key: ${(e as Error).message}`);
  }
  if (stat.isDirectory()) throw new OptionsError(`${context}: cannot read key from a directory`);
  if (!stat.isFile()) throw new OptionsError(`${context}: cannot read key from nonregular file`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new OptionsError(`${context}: ${(e as Error).message}`);
  }
}

const REQUESTOR_KEYS = new Set([
  'auth_method',
  'key',
  'key_file',
  'disclose_perms',
  'sign_perms',
  'issue_perms',
  'revoke_perms',
  'host_perms',
]);

function parseRequestors(raw: Record<string, unknown>, cwd: string, warnings: string[]): Record<string, RequestorOptions> {
  const out: Record<string, RequestorOptions> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new OptionsError(`requestor ${name}: expected an object with auth_method and key or key_file`);
    }
    // Member names match case-insensitively, as mapstructure does in the reference.
    const r: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const lk = k.toLowerCase();
      if (!REQUESTOR_KEYS.has(lk)) {
        const match = closest(lk, REQUESTOR_KEYS);
        throw new OptionsError(`unknown key "${k}" in requestor ${name}${match ? ` (did you mean "${match}"?)` : ''}`);
      }
      r[lk] = v;
    }
    const str = (k: string): string | undefined => {
      const v = r[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw new OptionsError(`requestor ${name}: ${k} must be a string`);
      return v;
    };
    const list = (k: string): string[] | undefined => {
      const v = r[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v === 'string') return splitList(v, /[\s,]+/);
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
        throw new OptionsError(`requestor ${name}: ${k} must be a list of strings`);
      }
      return v;
    };
    const inline = str('key');
    const file = str('key_file');
    const hasInline = inline !== undefined && inline !== '';
    const hasFile = file !== undefined && file !== '';
    if (hasInline === hasFile) {
      throw new OptionsError(`failed to read key of requestor ${name}: provide either key or path to key`);
    }
    const key = hasInline ? inline! : readKeyFile(resolve(cwd, file!), `failed to read key of requestor ${name}`);
    const requestor: RequestorOptions = { authMethod: (str('auth_method') ?? '') as AuthMethod, key };
    const perms = {
      disclosePerms: list('disclose_perms'),
      signPerms: list('sign_perms'),
      issuePerms: list('issue_perms'),
      revokePerms: list('revoke_perms'),
      hostPerms: list('host_perms'),
    };
    for (const [field, v] of Object.entries(perms)) {
      if (v !== undefined) (requestor as unknown as Record<string, unknown>)[field] = v;
    }
    out[name] = requestor;
  }
  return out;
}

/** The reference's development default: http://<first non-internal IPv4>:port ('' if there is none). */
function developmentUrl(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return `http://${a.address}:port`;
    }
  }
  return '';
}

/** revocation_settings in the reference's snake_case, to the server's RevocationSetting. */
function parseRevocationSettings(raw: Record<string, unknown>): Record<string, Partial<RevocationSetting>> {
  const out: Record<string, Partial<RevocationSetting>> = {};
  for (const [type, v] of Object.entries(raw)) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OptionsError(`revocation_settings.${type} must be an object`);
    const s: Partial<RevocationSetting> = {};
    for (const [k, val] of Object.entries(v)) {
      const key = k.toLowerCase();
      const bool = (): boolean => {
        if (typeof val !== 'boolean') throw new OptionsError(`revocation_settings.${type}.${k} must be true or false`);
        return val;
      };
      if (key === 'server') s.server = bool();
      else if (key === 'authority') s.authority = bool();
      else if (key === 'sse') s.sse = bool();
      else if (key === 'revocation_server_url' || key === 'server_url') {
        if (typeof val !== 'string') throw new OptionsError(`revocation_settings.${type}.${k} must be a string`);
        s.revocationServerUrl = val;
      } else if (key === 'tolerance' || key === 'max_nonrev_duration') {
        if (typeof val !== 'number' || !Number.isInteger(val) || val < 0) throw new OptionsError(`revocation_settings.${type}.${k} must be a whole number of seconds`);
        s.tolerance = val;
      } else throw new OptionsError(`revocation_settings.${type}: unknown setting ${k}`);
    }
    out[type] = s;
  }
  return out;
}
