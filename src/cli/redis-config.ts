// The Redis store's part of the configuration: snake_case keys onto RedisStoreOptions.
import { resolve } from 'node:path';
import { OptionsError } from '../server/options.js';
import type { RedisStoreOptions } from '../store/redis-options.js';
import type { StoreEncryptionKey } from '../store/encryption.js';
import { describeParseError } from './parse-error.js';

/** Builds the Redis options from resolved configuration values; file paths resolved against cwd. */
export function redisOptionsFrom(get: <T>(key: string) => T | undefined, cwd: string): RedisStoreOptions {
  const path = (key: string): string | undefined => {
    const v = get<string>(key);
    return v ? resolve(cwd, v) : undefined;
  };
  const r: RedisStoreOptions = {
    redisAddr: get('redis_addr'),
    redisUsername: get('redis_username'),
    redisPw: get('redis_pw'),
    redisAllowEmptyPassword: get('redis_allow_empty_password'),
    redisDb: get('redis_db'),
    redisAclUseKeyPrefixes: get('redis_acl_use_key_prefixes'),
    redisTlsCert: get('redis_tls_cert'),
    redisTlsCertFile: path('redis_tls_cert_file'),
    redisTlsClientCertFile: path('redis_tls_client_cert_file'),
    redisTlsClientKeyFile: path('redis_tls_client_key_file'),
    redisNoTls: get('redis_no_tls'),
    redisSentinelAddrs: get('redis_sentinel_addrs'),
    redisSentinelMasterName: get('redis_sentinel_master_name'),
    redisSentinelUsername: get('redis_sentinel_username'),
    redisSentinelPw: get('redis_sentinel_pw'),
    redisAcceptInconsistencyRisk: get('redis_accept_inconsistency_risk'),
    redisClusterAddrs: get('redis_cluster_addrs'),
    redisKeyPrefix: get('redis_key_prefix'),
    redisWaitReplicas: get('redis_wait_replicas'),
    redisWaitTimeoutMs: get('redis_wait_timeout'),
    redisTimeoutMs: get('redis_timeout'),
    storeEncryptionKeys: get('store_encryption_keys'),
    storeEncryptionAllowPlaintext: get('store_encryption_allow_plaintext'),
  };
  // Unset keys are left out, so the store's own defaults apply.
  for (const k of Object.keys(r) as (keyof RedisStoreOptions)[]) if (r[k] === undefined) delete r[k];
  return r;
}

/**
 * The encryption key ring as `id:base64key,id:base64key` or as a JSON list of {"id","key"}.
 * Key strength and id syntax are checked later by validateOptions (through the store's codec).
 */
export function parseKeyRing(text: string, where: string): StoreEncryptionKey[] {
  const t = text.trim();
  if (t === '') return [];
  if (t.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new OptionsError(`invalid value for ${where}: ${describeParseError(e)}`);
    }
    if (
      !Array.isArray(v) ||
      !v.every((k) => typeof k === 'object' && k !== null && typeof k.id === 'string' && typeof k.key === 'string')
    ) {
      throw new OptionsError(`invalid value for ${where}: expected a list of {"id": ..., "key": ...}`);
    }
    return v.map((k: StoreEncryptionKey) => ({ id: k.id, key: k.key }));
  }
  return t.split(',').map((entry) => {
    const i = entry.indexOf(':');
    if (i <= 0) throw new OptionsError(`invalid value for ${where}: expected id:base64key entries separated by commas`);
    return { id: entry.slice(0, i).trim(), key: entry.slice(i + 1).trim() };
  });
}
