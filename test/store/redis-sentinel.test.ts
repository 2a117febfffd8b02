import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.js';
import { describeRedis } from '../../src/store/redis-health.js';
import type { RedisStoreOptions } from '../../src/store/redis-options.js';
import { startSentinelSetup, stopAll, type SentinelSetup } from '../support/redis.js';
import { describeStoreContract, eventually, newSession, type TestSession } from './contract.js';

const PW = 'sentinel-secret';
const ring = [{ id: 'k1', key: randomBytes(32).toString('base64') }];
let setup: SentinelSetup;

beforeAll(async () => {
  setup = await startSentinelSetup(PW, 2, 3);
}, 60_000);
afterAll(stopAll);

const options = (): RedisStoreOptions => ({
  redisSentinelAddrs: setup.sentinels.map((s) => s.addr),
  redisSentinelMasterName: setup.masterName,
  redisPw: PW,
  redisNoTls: true,
  redisAcceptInconsistencyRisk: true,
  redisTimeoutMs: 2000,
});

describeStoreContract('Redis Sentinel', () => () => RedisStore.connect<TestSession>(options()));
describeStoreContract('Redis Sentinel, encrypted', () => () =>
  RedisStore.connect<TestSession>({ ...options(), storeEncryptionKeys: ring }),
);

describe('Redis Sentinel specifics', () => {
  it('is described with the current master and its replicas', async () => {
    const d = await describeRedis(options());
    expect(d).toMatchObject({ mode: 'sentinel', reachable: true, replicas: 2 });
    expect(d.nodes).toEqual([expect.objectContaining({ address: setup.master.addr, role: 'master', connectedReplicas: 2 })]);
  });

  it('waits for replicas on durable writes', async () => {
    const store = await RedisStore.connect<TestSession>({ ...options(), redisWaitReplicas: 2 });
    const s = newSession('CONNECTED');
    await store.create(s, 60_000);
    const r = await store.update(s.clientToken, (cur) => ({
      value: { ...cur, status: 'DONE' as const },
      ttlMs: 60_000,
      durable: true,
      result: 'done',
    }));
    expect(r).toBe('done');
    // both replicas have it the moment update resolved
    const key = store.keysOf(s.clientToken).session;
    for (const replica of setup.replicas) {
      expect(await replica.cli(['EXISTS', key], { password: PW })).toBe('1');
    }
    await store.close();
  });

  it('continues a session after the master is killed and a replica is promoted', async () => {
    const store = await RedisStore.connect<TestSession>(options());
    const watcher = await RedisStore.connect<TestSession>(options());
    const s = newSession('CONNECTED');
    await store.create(s, 60_000);
    await store.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 1 }, ttlMs: 60_000, durable: true, result: 0 }));
    const master = await setup.currentMaster();
    await master.cli(['WAIT', '2', '2000'], { password: PW });
    const seen: string[] = [];
    await watcher.subscribe(s.clientToken, (v) => seen.push(v.status));

    await master.stop('SIGKILL');
    const finish = () =>
      store.update(s.clientToken, (cur) =>
        cur.status === 'CONNECTED' ? { value: { ...cur, status: 'DONE' as const }, ttlMs: 60_000, result: 'done' } : { result: 'already' },
      );
    await eventually(async () => finish().then(() => true, () => false), 25_000);
    const promoted = await setup.currentMaster();
    expect(promoted.port).not.toBe(master.port);
    const final = await watcher.get(s.clientToken);
    expect(final?.status).toBe('DONE');
    expect(final?.counter).toBe(1);
    await eventually(() => seen.includes('DONE'), 10_000);
    await Promise.all([store.close(), watcher.close()]);
  }, 45_000);
});
