import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.js';
import { describeRedis } from '../../src/store/redis-health.js';
import type { RedisStoreOptions } from '../../src/store/redis-options.js';
import { startCluster, stopAll, waitFor, type ClusterSetup } from '../support/redis.js';
import { describeStoreContract, eventually, expectStoreError, newSession, sleep, type TestSession } from './contract.js';
import { clusterSlot } from './slot.js';

const PW = 'cluster-secret';
const ring = [{ id: 'k1', key: randomBytes(32).toString('base64') }];
let cluster: ClusterSetup;

beforeAll(async () => {
  cluster = await startCluster(PW, 3, 1);
}, 60_000);
afterAll(stopAll);

const options = (): RedisStoreOptions => ({
  redisClusterAddrs: cluster.nodes.slice(0, 2).map((n) => n.addr),
  redisPw: PW,
  redisNoTls: true,
  redisAcceptInconsistencyRisk: true,
  redisTimeoutMs: 2000,
});

describeStoreContract('Redis Cluster', () => () => RedisStore.connect<TestSession>(options()));
describeStoreContract('Redis Cluster, encrypted', () => () =>
  RedisStore.connect<TestSession>({ ...options(), storeEncryptionKeys: ring }),
);

describe('Redis Cluster specifics', () => {
  it('is described with every master and its replica', async () => {
    const d = await describeRedis({ ...options(), storeEncryptionKeys: ring });
    expect(d).toMatchObject({ mode: 'cluster', reachable: true, replicas: 1 });
    expect(d.nodes).toHaveLength(3);
    expect(d.nodes.every((n) => n.role === 'master' && n.connectedReplicas === 1)).toBe(true);
    expect(d.problems).toEqual([expect.stringMatching(/TLS is disabled/)]);
  });

  it('refuses a cluster node given as a standalone address', async () => {
    await expect(
      RedisStore.connect({ redisAddr: cluster.nodes[0].addr, redisPw: PW, redisNoTls: true }),
    ).rejects.toThrow('inconsistency risk not accepted');
  });

  it('spreads sessions over every master, each session on one slot', async () => {
    const store = await RedisStore.connect<TestSession>(options());
    const sessions = Array.from({ length: 60 }, () => newSession());
    await Promise.all(sessions.map((s) => store.create(s, 60_000)));
    const masters = await cluster.masters();
    const counts = await Promise.all(masters.map((m) => m.cli(['DBSIZE'], { password: PW }).then(Number)));
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(120);
    for (const s of sessions.slice(0, 5)) {
      const keys = store.keysOf(s.clientToken, s.requestorToken);
      expect(clusterSlot(keys.session)).toBe(clusterSlot(keys.token!));
      const owner = await cluster.masterOf(clusterSlot(keys.session));
      expect(await owner.cli(['EXISTS', keys.session, keys.token!], { password: PW })).toBe('2');
    }
    await store.close();
  });

  it('delivers events across instances over sharded pub/sub', async () => {
    const writer = await RedisStore.connect<TestSession>(options());
    const reader = await RedisStore.connect<TestSession>(options());
    const sessions = Array.from({ length: 6 }, () => newSession());
    const seen = new Map<string, number>();
    for (const s of sessions) {
      await writer.create(s, 60_000);
      await reader.subscribe(s.clientToken, (v) => seen.set(v.clientToken, v.counter));
    }
    await Promise.all(
      sessions.map((s) => writer.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 3 }, ttlMs: 60_000, result: 0 }))),
    );
    await eventually(() => sessions.every((s) => seen.get(s.clientToken) === 3));
    await Promise.all([writer.close(), reader.close()]);
  });

  it('keeps sessions going when a master dies and its replica takes over', async () => {
    const store = await RedisStore.connect<TestSession>(options());
    const watcher = await RedisStore.connect<TestSession>(options());
    const sessions = Array.from({ length: 30 }, () => newSession('CONNECTED'));
    await Promise.all(sessions.map((s) => store.create(s, 60_000)));
    const seen: string[] = [];
    await watcher.subscribe(sessions[0].clientToken, (v) => seen.push(v.status));
    // make sure the replicas have the sessions before the crash
    for (const m of await cluster.masters()) await m.cli(['WAIT', '1', '2000'], { password: PW });

    const victim = await cluster.masterOf(clusterSlot(store.keysOf(sessions[0].clientToken).session));
    await victim.stop('SIGKILL');
    const finish = (s: TestSession) =>
      store.update(s.clientToken, (cur) =>
        cur.status === 'CONNECTED' ? { value: { ...cur, status: 'DONE' as const }, ttlMs: 60_000, result: 'done' } : { result: 'already' },
      );
    // Bounded wait for the failover: every session writable again. Not only the dead master's:
    // until the other masters learn of the promotion they may still answer CLUSTERDOWN (a store
    // error the app retries on), so the wait covers them all.
    await eventually(async () => Promise.all(sessions.map(finish)).then(() => true, () => false), 20_000);
    const results = await Promise.all(sessions.map(finish));
    expect(results.every((r) => r === 'done' || r === 'already')).toBe(true);
    for (const s of sessions) expect((await store.get(s.clientToken))?.status).toBe('DONE');
    // the subscription on the dead master's shard moved to the promoted replica
    await eventually(() => seen.includes('DONE'), 10_000);
    await Promise.all([store.close(), watcher.close()]);
  }, 40_000);

  // Last: it takes the whole cluster down (without persistence, so the data goes with it).
  it('fails fast while every node is down, and serves again, subscriptions included, once they are back', async () => {
    const store = await RedisStore.connect<TestSession>(options());
    const writer = await RedisStore.connect<TestSession>(options());
    const s = newSession('CONNECTED');
    await store.create(s, 60_000);
    const seen: number[] = [];
    await store.subscribe(s.clientToken, (v) => seen.push(v.counter));

    const down = cluster.nodes.filter((n) => n.child !== undefined);
    await Promise.all(down.map((n) => n.stop('SIGKILL')));
    await expectStoreError(store.get(s.clientToken), 'UNAVAILABLE');
    await expectStoreError(store.ping(), 'UNAVAILABLE');
    await sleep(2000);
    await expectStoreError(writer.update(s.clientToken, (cur) => ({ value: cur, ttlMs: 60_000, result: 0 })), 'UNAVAILABLE');

    await Promise.all(down.map((n) => n.start()));
    await waitFor(async () => {
      for (const n of down) if (!(await n.cli(['CLUSTER', 'INFO'], { password: PW })).includes('cluster_state:ok')) return false;
      return true;
    }, 20_000);
    await eventually(async () => writer.create(s, 60_000).then(() => true, () => false), 10_000);
    await eventually(async () => store.ping().then(() => true, () => false), 10_000);
    // The subscription taken before the outage hears commits made after it.
    await eventually(async () => {
      await writer.update(s.clientToken, (cur) => ({ value: { ...cur, counter: cur.counter + 1 }, ttlMs: 60_000, result: 0 }));
      return seen.length > 0;
    }, 10_000);
    const last = (await store.get(s.clientToken))?.counter;
    await eventually(() => seen[seen.length - 1] === last, 5_000);
    await Promise.all([store.close(), writer.close()]);
  }, 60_000);
});
