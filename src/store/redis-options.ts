// Options of the Redis session store and their validation.
//
// Every `redis*` field is the camelCase form of the reference server's configuration key of
// the same name (`redis_addr` -> `redisAddr`, flag `--redis-addr`, env `IRMASERVER_REDIS_ADDR`)
// and means the same; checks and their messages follow the reference. Fields marked "ours"
// do not exist in the reference server.

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { StoreEncryptionKey } from './encryption.js';

export interface RedisStoreOptions {
  /** `redis_addr`: host:port of a standalone Redis. Exactly one of addr / sentinel / cluster addresses. */
  redisAddr?: string;
  /** `redis_username`: ACL user; empty means the `default` user. */
  redisUsername?: string;
  /** `redis_pw`: password; required unless `redisAllowEmptyPassword`. */
  redisPw?: string;
  /** `redis_allow_empty_password`: permit connecting without a password. */
  redisAllowEmptyPassword?: boolean;
  /** `redis_db`: database number (standalone and Sentinel; a cluster only has 0). */
  redisDb?: number;
  /** `redis_acl_use_key_prefixes`: prefix every key with `<redis_username>:` for ACL key patterns. */
  redisAclUseKeyPrefixes?: boolean;
  /** `redis_tls_cert`: PEM of the CA that signed the Redis server certificate (instead of system roots). */
  redisTlsCert?: string;
  /** `redis_tls_cert_file`: path to that PEM; not together with `redisTlsCert`. */
  redisTlsCertFile?: string;
  /** `redis_tls_client_cert_file`: client certificate (PEM) for mutual TLS; needs the key file too. */
  redisTlsClientCertFile?: string;
  /** `redis_tls_client_key_file`: private key (PEM) of the client certificate. */
  redisTlsClientKeyFile?: string;
  /** `redis_no_tls`: plain TCP. TLS is on by default; refused together with a CA certificate. */
  redisNoTls?: boolean;
  /** `redis_sentinel_addrs`: host:port of Sentinels (any subset suffices to find the rest). */
  redisSentinelAddrs?: string[];
  /** `redis_sentinel_master_name`: the monitored master's name. */
  redisSentinelMasterName?: string;
  /** `redis_sentinel_username`: ACL user on the Sentinels. */
  redisSentinelUsername?: string;
  /** `redis_sentinel_pw`: password on the Sentinels. */
  redisSentinelPw?: string;
  /**
   * `redis_accept_inconsistency_risk`: required for Sentinel and Cluster. Replication is
   * asynchronous, so a failover can lose acknowledged writes. We keep the name, and narrow the
   * risk: every write is a compare-and-set on a version (no lost updates between processes),
   * and with `redisWaitReplicas` the writes that finish a session wait for replica
   * acknowledgement before their effects happen.
   */
  redisAcceptInconsistencyRisk?: boolean;
  /** Ours. `redis_cluster_addrs`: host:port of some Redis Cluster nodes (the rest are discovered). */
  redisClusterAddrs?: string[];
  /** Ours. `redis_key_prefix`: extra prefix for every key (after the ACL user prefix), to share a database. */
  redisKeyPrefix?: string;
  /**
   * Ours. `redis_wait_replicas`: after a write marked durable (one that finishes a session),
   * send `WAIT <n>` and fail the update with UNAVAILABLE when fewer replicas acknowledge.
   * 0 (default) never waits.
   */
  redisWaitReplicas?: number;
  /** Ours. `redis_wait_timeout`: ms the WAIT above may take (default 1000). */
  redisWaitTimeoutMs?: number;
  /** Ours. `redis_timeout`: ms any store operation may take before it fails with UNAVAILABLE (default 3000). */
  redisTimeoutMs?: number;
  /**
   * Ours. `store_encryption_keys`: key ring for sealing session values (AES-256-GCM). The first
   * key seals; all of them open, so rotation is: put the new key first, keep the old one second
   * until the longest session lifetime has passed.
   */
  storeEncryptionKeys?: StoreEncryptionKey[];
  /** Ours. `store_encryption_allow_plaintext`: also read unsealed values, while migrating to encryption. */
  storeEncryptionAllowPlaintext?: boolean;
}

export class RedisConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisConfigError';
  }
}

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

/** Validated options, in the shape the connection code needs. */
export interface ResolvedRedisOptions {
  mode: RedisMode;
  nodes: RedisNodeAddress[];
  sentinelMasterName: string;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  db: number;
  /** false for plain TCP; otherwise the TLS options (ca undefined = system roots). */
  tls: false | ConnectionOptions;
  keyPrefix: string;
  waitReplicas: number;
  waitTimeoutMs: number;
  timeoutMs: number;
  acceptInconsistencyRisk: boolean;
}

const MISSING_ADDR = 'When Redis is used as session data store, either --redis-addr or --redis-sentinel-addrs must be specified.';
const MISSING_ADDR_WITH_CLUSTER =
  'When Redis is used as session data store, exactly one of --redis-addr, --redis-sentinel-addrs or --redis-cluster-addrs must be specified.';
const MISSING_PASSWORD =
  'When Redis is used as session data store, a non-empty Redis password must be specified with the --redis-pw flag. This restriction can be relaxed by setting the --redis-allow-empty-password flag to true.';
export const INCONSISTENCY_NOT_ACCEPTED =
  'inconsistency risk not accepted for using Redis Sentinel/Cluster (see --accept-inconsistency-risk in irma server -h)';

export function resolveRedisOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  const addr = options.redisAddr ?? '';
  const sentinels = options.redisSentinelAddrs ?? [];
  const cluster = options.redisClusterAddrs ?? [];
  const given = [addr !== '', sentinels.length > 0, cluster.length > 0].filter(Boolean).length;
  if (given !== 1) throw new RedisConfigError(cluster.length > 0 ? MISSING_ADDR_WITH_CLUSTER : MISSING_ADDR);
  const mode: RedisMode = addr !== '' ? 'standalone' : sentinels.length > 0 ? 'sentinel' : 'cluster';

  const password = options.redisPw ?? '';
  if (password === '' && !options.redisAllowEmptyPassword) throw new RedisConfigError(MISSING_PASSWORD);

  if (mode !== 'standalone' && !options.redisAcceptInconsistencyRisk) {
    throw new RedisConfigError(INCONSISTENCY_NOT_ACCEPTED);
  }
  if (mode === 'sentinel' && !options.redisSentinelMasterName) {
    throw new RedisConfigError('--redis-sentinel-master-name must be specified with --redis-sentinel-addrs');
  }
  const db = options.redisDb ?? 0;
  if (!Number.isInteger(db) || db < 0) throw new RedisConfigError('--redis-db must be a non-negative integer');
  if (mode === 'cluster' && db !== 0) throw new RedisConfigError('Redis Cluster only has database 0; --redis-db must be 0');

  const waitReplicas = options.redisWaitReplicas ?? 0;
  if (!Number.isInteger(waitReplicas) || waitReplicas < 0) {
    throw new RedisConfigError('--redis-wait-replicas must be a non-negative integer');
  }
  const waitTimeoutMs = positive(options.redisWaitTimeoutMs, 1000, '--redis-wait-timeout');
  const timeoutMs = positive(options.redisTimeoutMs, 3000, '--redis-timeout');

  const username = options.redisUsername || undefined;
  let keyPrefix = '';
  if (options.redisAclUseKeyPrefixes) {
    if (username === undefined) throw new RedisConfigError('--redis-acl-use-key-prefixes needs --redis-username');
    keyPrefix = `${username}:`;
  }
  keyPrefix += options.redisKeyPrefix ?? '';

  const defaultPort = mode === 'sentinel' ? 26379 : 6379;
  const nodes = (mode === 'standalone' ? [addr] : mode === 'sentinel' ? sentinels : cluster).map((a) =>
    parseAddress(a, defaultPort),
  );

  return {
    mode,
    nodes,
    sentinelMasterName: options.redisSentinelMasterName ?? '',
    username,
    password: password || undefined,
    sentinelUsername: options.redisSentinelUsername || undefined,
    sentinelPassword: options.redisSentinelPw || undefined,
    db,
    tls: tlsOptions(options),
    keyPrefix,
    waitReplicas,
    waitTimeoutMs,
    timeoutMs,
    acceptInconsistencyRisk: options.redisAcceptInconsistencyRisk ?? false,
  };
}

// Node fires a timer longer than this after 1 ms instead.
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(value: number | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new RedisConfigError(`${flag} must be a positive number of milliseconds, at most ${MAX_TIMER_MS}`);
  }
  return value;
}

function tlsFailed(message: string, cause?: unknown): RedisConfigError {
  return new RedisConfigError(`redis TLS config failed: ${message}`, { cause });
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw tlsFailed(`cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, cause);
  }
}

function tlsOptions(options: RedisStoreOptions): false | ConnectionOptions {
  const cert = options.redisTlsCert ?? '';
  const certFile = options.redisTlsCertFile ?? '';
  if (options.redisNoTls) {
    if (cert !== '' || certFile !== '') {
      throw tlsFailed('Redis TLS cannot be disabled when a Redis TLS certificate is specified.');
    }
    return false;
  }
  if (cert !== '' && certFile !== '') throw tlsFailed('provide either key or path to key');
  const ca = cert !== '' ? cert : certFile !== '' ? readPem(certFile, 'CA certificate') : undefined;

  const clientCertFile = options.redisTlsClientCertFile ?? '';
  const clientKeyFile = options.redisTlsClientKeyFile ?? '';
  if ((clientCertFile === '') !== (clientKeyFile === '')) {
    throw new RedisConfigError('provide either certificate and key or neither of them');
  }
  // The reference only loads a client certificate next to a CA certificate; we also send it
  // when the server's certificate is checked against the system roots.
  const tls: ConnectionOptions = { minVersion: 'TLSv1.2' };
  if (ca !== undefined) tls.ca = ca;
  if (clientCertFile !== '') {
    tls.cert = readPem(clientCertFile, 'client certificate');
    tls.key = readPem(clientKeyFile, 'client key');
  }
  return tls;
}

/** "host:port", "[v6]:port" or a bare host. */
export function parseAddress(address: string, defaultPort: number): RedisNodeAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(address.trim());
  const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
  if (m === null || port < 1 || port > 65535) throw new RedisConfigError(`invalid Redis address ${JSON.stringify(address)}`);
  return { host: m[1] ?? m[2], port };
}
