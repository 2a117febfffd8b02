import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAddress, RedisConfigError, resolveRedisOptions } from '../../src/store/redis-options.js';
import { stopAll, tempDir } from '../support/redis.js';

afterAll(stopAll);

const base = { redisAddr: 'localhost:6379', redisPw: 'pw' };

function fails(options: Parameters<typeof resolveRedisOptions>[0], message: string | RegExp): void {
  expect(() => resolveRedisOptions(options)).toThrow(RedisConfigError);
  expect(() => resolveRedisOptions(options)).toThrow(message);
}

describe('Redis store options', () => {
  it('uses TLS with the system roots by default, and the given CA otherwise', () => {
    const r = resolveRedisOptions(base);
    expect(r.mode).toBe('standalone');
    expect(r.nodes).toEqual([{ host: 'localhost', port: 6379 }]);
    expect(r.tls).not.toBe(false);
    expect(r.tls && r.tls.ca).toBeUndefined();
    expect(resolveRedisOptions({ ...base, redisTlsCert: 'PEM' }).tls).toMatchObject({ ca: 'PEM' });
    const dir = tempDir();
    writeFileSync(join(dir, 'ca.pem'), 'FILEPEM');
    expect(resolveRedisOptions({ ...base, redisTlsCertFile: join(dir, 'ca.pem') }).tls).toMatchObject({ ca: 'FILEPEM' });
    expect(resolveRedisOptions({ ...base, redisNoTls: true }).tls).toBe(false);
  });

  it('refuses the TLS combinations the reference refuses, with its messages', () => {
    fails(
      { ...base, redisNoTls: true, redisTlsCert: 'PEM' },
      'redis TLS config failed: Redis TLS cannot be disabled when a Redis TLS certificate is specified.',
    );
    fails(
      { ...base, redisNoTls: true, redisTlsCertFile: '/x' },
      'redis TLS config failed: Redis TLS cannot be disabled when a Redis TLS certificate is specified.',
    );
    fails({ ...base, redisTlsCert: 'PEM', redisTlsCertFile: '/x' }, 'redis TLS config failed: provide either key or path to key');
    fails({ ...base, redisTlsClientCertFile: '/x' }, 'provide either certificate and key or neither of them');
    fails({ ...base, redisTlsCertFile: '/does/not/exist' }, /^redis TLS config failed: cannot read CA certificate/);
  });

  it('requires a password unless empty passwords are allowed', () => {
    fails({ redisAddr: 'h:1' }, /a non-empty Redis password must be specified with the --redis-pw flag/);
    expect(resolveRedisOptions({ redisAddr: 'h:1', redisAllowEmptyPassword: true }).password).toBeUndefined();
  });

  it('requires exactly one of address, sentinel addresses and cluster addresses', () => {
    const msg = 'When Redis is used as session data store, either --redis-addr or --redis-sentinel-addrs must be specified.';
    fails({ redisPw: 'pw' }, msg);
    fails({ ...base, redisSentinelAddrs: ['h:1'] }, msg);
    fails({ ...base, redisClusterAddrs: ['h:1'] }, /exactly one of --redis-addr, --redis-sentinel-addrs or --redis-cluster-addrs/);
  });

  it('refuses Sentinel and Cluster without accepting the inconsistency risk', () => {
    const risk = 'inconsistency risk not accepted for using Redis Sentinel/Cluster (see --accept-inconsistency-risk in irma server -h)';
    fails({ redisPw: 'pw', redisSentinelAddrs: ['h:1'], redisSentinelMasterName: 'm' }, risk);
    fails({ redisPw: 'pw', redisClusterAddrs: ['h:1'] }, risk);
    const s = resolveRedisOptions({
      redisPw: 'pw',
      redisSentinelAddrs: ['a:1', '[::1]'],
      redisSentinelMasterName: 'm',
      redisAcceptInconsistencyRisk: true,
    });
    expect(s.mode).toBe('sentinel');
    expect(s.nodes).toEqual([
      { host: 'a', port: 1 },
      { host: '::1', port: 26379 },
    ]);
    fails({ redisPw: 'pw', redisSentinelAddrs: ['h:1'], redisAcceptInconsistencyRisk: true }, /master-name/);
    fails({ redisPw: 'pw', redisClusterAddrs: ['h:1'], redisAcceptInconsistencyRisk: true, redisDb: 2 }, /database 0/);
  });

  it('builds key prefixes from the ACL user and our extra prefix', () => {
    expect(resolveRedisOptions({ ...base, redisUsername: 'irma', redisAclUseKeyPrefixes: true }).keyPrefix).toBe('irma:');
    expect(
      resolveRedisOptions({ ...base, redisUsername: 'irma', redisAclUseKeyPrefixes: true, redisKeyPrefix: 'blue:' }).keyPrefix,
    ).toBe('irma:blue:');
    expect(resolveRedisOptions({ ...base, redisUsername: 'irma' }).keyPrefix).toBe('');
    fails({ ...base, redisAclUseKeyPrefixes: true }, /needs --redis-username/);
  });

  it('validates numbers and addresses', () => {
    fails({ ...base, redisWaitReplicas: -1 }, /wait-replicas/);
    fails({ ...base, redisTimeoutMs: 0 }, /redis-timeout/);
    // beyond a timer's range, Node fires after 1 ms: every operation would fail at once
    fails({ ...base, redisTimeoutMs: 2 ** 31 }, /redis-timeout/);
    fails({ ...base, redisWaitTimeoutMs: 1e12 }, /redis-wait-timeout/);
    expect(resolveRedisOptions({ ...base, redisTimeoutMs: 2 ** 31 - 1 }).timeoutMs).toBe(2 ** 31 - 1);
    fails({ ...base, redisDb: 1.5 }, /redis-db/);
    expect(() => parseAddress('host:99999', 1)).toThrow(RedisConfigError);
    expect(() => parseAddress('a:b:c', 1)).toThrow(RedisConfigError);
    expect(parseAddress('[fe80::1]:7000', 1)).toEqual({ host: 'fe80::1', port: 7000 });
  });
});
