import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { RedisStore } from '../../src/store/redis.js';
import { describeRedis } from '../../src/store/redis-health.js';
import { RedisConfigError, type RedisStoreOptions } from '../../src/store/redis-options.js';
import { StoreError } from '../../src/store/store.js';
import { makeCertificates, startRedis, stopAll, type RedisProcess, type TlsFiles } from '../support/redis.js';
import { describeStoreContract, eventually, expectStoreError, newSession, sleep, type TestSession } from './contract.js';

const PW = 'standalone-secret';
const key = (id: string) => ({ id, key: randomBytes(32).toString('base64') });
const ring = [key('current')];

let certs: TlsFiles;
let plain: RedisProcess;
let tls: RedisProcess;
let mtls: RedisProcess;
let acl: RedisProcess;

beforeAll(async () => {
  certs = makeCertificates();
  [plain, tls, mtls, acl] = await Promise.all([
    startRedis({ password: PW }),
    startRedis({ password: PW, tls: { files: certs, authClients: 'no' } }),
    startRedis({ password: PW, tls: { files: certs, authClients: 'yes' } }),
    startRedis({
      acl: [
        `user default on >${PW} ~* &* +@all`,
        // the session user may only touch keys and channels under its own name
        'user irma on >irma-pw resetchannels ~irma:* &irma:* -@all +@read +@write +@scripting +@pubsub +@connection +info +wait',
      ],
    }),
  ]);
}, 60_000);

afterAll(stopAll);

const setups: Record<string, () => RedisStoreOptions> = {
  'password': () => ({ redisAddr: plain.addr, redisPw: PW, redisNoTls: true }),
  'TLS with the test CA': () => ({ redisAddr: tls.addr, redisPw: PW, redisTlsCertFile: certs.ca }),
  'mutual TLS': () => ({
    redisAddr: mtls.addr,
    redisPw: PW,
    redisTlsCertFile: certs.ca,
    redisTlsClientCertFile: certs.clientCert,
    redisTlsClientKeyFile: certs.clientKey,
  }),
  'ACL user with key prefixes': () => ({
    redisAddr: acl.addr,
    redisUsername: 'irma',
    redisPw: 'irma-pw',
    redisAclUseKeyPrefixes: true,
    redisNoTls: true,
  }),
};

for (const [name, options] of Object.entries(setups)) {
  describeStoreContract(`Redis ${name}`, () => () => RedisStore.connect<TestSession>(options()));
  describeStoreContract(`Redis ${name}, encrypted`, () => () =>
    RedisStore.connect<TestSession>({ ...options(), storeEncryptionKeys: ring }),
  );
}

const plainOptions = (): RedisStoreOptions => setups.password();

describe('Redis store, standalone specifics', () => {
  it('names keys with the shared hash tag and prefixes, and honours the ACL key pattern', async () => {
    const store = await RedisStore.connect<TestSession>(setups['ACL user with key prefixes']());
    const s = newSession();
    await store.create(s, 10_000);
    const tag = s.clientToken.slice(0, 4);
    const keys = (await acl.cli(['KEYS', `*${tag}*`], { password: PW })).split('\n').sort();
    expect(keys).toEqual([`irma:irma:{${tag}}:session:${s.clientToken}`, `irma:irma:{${tag}}:token:${s.requestorToken}`]);
    await store.close();

    // the same user writing outside its key pattern hits the ACL and gets a typed error
    const unprefixed = await RedisStore.connect<TestSession>({
      ...setups['ACL user with key prefixes'](),
      redisAclUseKeyPrefixes: false,
      redisKeyPrefix: 'other:',
    });
    await expectStoreError(unprefixed.create(newSession(), 10_000), 'UNAVAILABLE');
    await unprefixed.close();
  });

  it('refuses servers it cannot authenticate or trust, at once and naming the option', async () => {
    // A long timeout: only a refusal that is not retried ends the connect with a named cause.
    const refused = await RedisStore.connect({ ...plainOptions(), redisPw: 'wrong', redisTimeoutMs: 60_000 }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(RedisConfigError);
    expect((refused as Error).message).toBe('Redis refused the credentials (WRONGPASS): check --redis-pw and --redis-username');
    // TLS against the system roots does not trust the test CA
    const untrusted = await RedisStore.connect({ redisAddr: tls.addr, redisPw: PW, redisTimeoutMs: 60_000 }).catch((e: Error) => e);
    expect(untrusted).toBeInstanceOf(RedisConfigError);
    expect((untrusted as Error).message).toMatch(/^the Redis server's TLS certificate does not verify \(.*\): .*--redis-tls-cert-file/);
    // mutual TLS without a client certificate
    await expectStoreError(
      RedisStore.connect({ redisAddr: mtls.addr, redisPw: PW, redisTlsCertFile: certs.ca, redisTimeoutMs: 1500 }),
      'UNAVAILABLE',
    );
  });

  it('retries when another process writes between read and compare-and-set', async () => {
    const store = await RedisStore.connect<TestSession>(plainOptions());
    const s = newSession();
    await store.create(s, 10_000);
    const { session } = store.keysOf(s.clientToken);
    let calls = 0;
    const result = await store.update(s.clientToken, (cur) => {
      calls++;
      if (calls === 1) {
        // another process commits (bumps the version) while this mutation runs
        plain.cliSync(
          ['EVAL', "local v = redis.call('GET', KEYS[1]); local n, rest = string.match(v, '^(%d+):(.*)$'); redis.call('SET', KEYS[1], (n + 1) .. ':' .. rest, 'KEEPTTL')", '1', session],
          PW,
        );
      }
      return { value: { ...cur, counter: cur.counter + 1 }, ttlMs: 10_000, result: calls };
    });
    expect(result).toBe(2);
    expect(calls).toBe(2);
    const raw = await plain.cli(['GET', session], { password: PW });
    expect(raw.startsWith('3:')).toBe(true);
    expect((await store.get(s.clientToken))?.counter).toBe(1);
    await store.close();
  });

  it('starts an update from its own read of a moment ago, yet never from a copy another process has outdated', async () => {
    const a = await RedisStore.connect<TestSession>(plainOptions());
    const b = await RedisStore.connect<TestSession>(plainOptions());
    // GETs sent by a client: the compare-and-set script runs one GET of its own per call.
    const gets = async () => {
      const stats = await plain.cli(['INFO', 'commandstats'], { password: PW });
      const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return calls('get') - calls('evalsha') - calls('eval');
    };
    const bump = (cur: TestSession) => ({ value: { ...cur, counter: cur.counter + 1 }, ttlMs: 10_000, result: cur.counter });
    const s = newSession();
    await a.create(s, 10_000);
    // Loads the script, so no NOSCRIPT retry blurs the counts below.
    expect(await a.update(s.clientToken, (cur) => ({ ...bump(cur), value: { ...cur, counter: -1 } }))).toBe(0);

    // Read, then change, then change again: one GET in all, and each change saw the one before.
    let before = await gets();
    expect((await a.get(s.clientToken))?.counter).toBe(-1);
    expect(await a.update(s.clientToken, (cur) => ({ ...bump(cur), value: { ...cur, counter: 1 } }))).toBe(-1);
    expect(await a.update(s.clientToken, bump)).toBe(1);
    expect((await gets()) - before).toBe(1);

    // Another process writes after this one's read: the stale copy loses the compare-and-set,
    // and the update reads and applies its change on top of the other's.
    expect((await a.get(s.clientToken))?.counter).toBe(2);
    expect(await b.update(s.clientToken, bump)).toBe(2);
    let seen: number[] = [];
    expect(await a.update(s.clientToken, (cur) => (seen.push(cur.counter), bump(cur)))).toBe(3);
    expect(seen).toEqual([2, 3]);
    expect((await b.get(s.clientToken))?.counter).toBe(4);

    // An answer without a write is never given from an outdated copy (no compare-and-set checks it).
    expect((await a.get(s.clientToken))?.counter).toBe(4);
    expect(await b.update(s.clientToken, bump)).toBe(4);
    expect(await a.update(s.clientToken, (cur) => ({ result: cur.counter }))).toBe(5);
    expect(await b.update(s.clientToken, (cur) => ({ ...bump(cur), value: { ...cur, counter: 4 } }))).toBe(5);

    // Gone meanwhile: SESSION_UNKNOWN, as without the copy, for a write and for an answer alike.
    expect((await a.get(s.clientToken))?.counter).toBe(4);
    const { session, token } = a.keysOf(s.clientToken, s.requestorToken);
    await plain.cli(['DEL', session, token!], { password: PW });
    seen = [];
    await expectStoreError(a.update(s.clientToken, (cur) => (seen.push(cur.counter), bump(cur))), 'SESSION_UNKNOWN');
    expect(seen).toEqual([4]);
    const u = newSession();
    await a.create(u, 10_000);
    await a.get(u.clientToken);
    const uk = a.keysOf(u.clientToken, u.requestorToken);
    await plain.cli(['DEL', uk.session, uk.token!], { password: PW });
    await expectStoreError(a.update(u.clientToken, (cur) => ({ result: cur.counter })), 'SESSION_UNKNOWN');

    // A copy older than a second is not used.
    const t = newSession();
    await a.create(t, 10_000);
    await a.get(t.clientToken);
    await sleep(1100);
    before = await gets();
    await a.update(t.clientToken, bump);
    expect((await gets()) - before).toBe(1);
    await a.close();
    await b.close();
  });

  it('gives up with CONFLICT when every attempt loses', async () => {
    const store = await RedisStore.connect<TestSession>(plainOptions(), { maxAttempts: 3 });
    const s = newSession();
    await store.create(s, 10_000);
    const { session } = store.keysOf(s.clientToken);
    await expectStoreError(
      store.update(s.clientToken, (cur) => {
        plain.cliSync(['EVAL', "local v = redis.call('GET', KEYS[1]); local n, rest = string.match(v, '^(%d+):(.*)$'); redis.call('SET', KEYS[1], (n + 1) .. ':' .. rest, 'KEEPTTL')", '1', session], PW);
        return { value: { ...cur, counter: 7 }, ttlMs: 10_000, result: 0 };
      }),
      'CONFLICT',
    );
    expect((await store.get(s.clientToken))?.counter).toBe(0);
    await store.close();
  });

  it('fails a durable write that no replica acknowledges', async () => {
    const store = await RedisStore.connect<TestSession>({ ...plainOptions(), redisWaitReplicas: 1, redisWaitTimeoutMs: 100 });
    const s = newSession('CONNECTED');
    await store.create(s, 10_000);
    // not durable: no WAIT
    await store.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 1 }, ttlMs: 10_000, result: 0 }));
    await expectStoreError(
      store.update(s.clientToken, (cur) => ({ value: { ...cur, status: 'DONE' as const }, ttlMs: 10_000, durable: true, result: 0 })),
      'UNAVAILABLE',
    );
    await store.close();
  });

  describe('encryption at rest', () => {
    it('stores no readable JSON, and a value moved to another session does not open', async () => {
      const store = await RedisStore.connect<TestSession>({ ...plainOptions(), storeEncryptionKeys: ring });
      const a = newSession();
      const b = newSession();
      a.result = 'secret attribute value';
      await store.create(a, 10_000);
      await store.create(b, 10_000);
      const raw = createClient({ socket: { port: plain.port, host: '127.0.0.1' }, password: PW });
      await raw.connect();
      const stored = (await raw.get(store.keysOf(a.clientToken).session))!;
      expect(stored).toMatch(/^1:enc1\.current\./);
      expect(stored).not.toContain('secret attribute value');
      expect(stored).not.toContain(a.clientToken);
      expect(() => JSON.parse(stored.slice(2))).toThrow();
      await raw.set(store.keysOf(b.clientToken).session, stored);
      await expectStoreError(store.get(b.clientToken), 'CORRUPT');
      await expectStoreError(store.update(b.clientToken, (cur) => ({ result: cur })), 'CORRUPT');
      await raw.set(store.keysOf(b.clientToken).session, 'garbage');
      await expectStoreError(store.get(b.clientToken), 'CORRUPT');
      await raw.close();
      await store.close();
    });

    it('keeps old sessions working across a key rotation, and reads plain values only while migrating', async () => {
      const old = key('old');
      const fresh = key('new');
      const before = await RedisStore.connect<TestSession>({ ...plainOptions(), storeEncryptionKeys: [old] });
      const unencrypted = await RedisStore.connect<TestSession>(plainOptions());
      const s = newSession();
      const legacy = newSession();
      await before.create(s, 10_000);
      await unencrypted.create(legacy, 10_000);

      const after = await RedisStore.connect<TestSession>({ ...plainOptions(), storeEncryptionKeys: [fresh, old] });
      expect(await after.get(s.clientToken)).toEqual(s);
      await after.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 1 }, ttlMs: 10_000, result: 0 }));
      expect(await plain.cli(['GET', after.keysOf(s.clientToken).session], { password: PW })).toMatch(/^2:enc1\.new\./);
      await expectStoreError(before.get(s.clientToken), 'CORRUPT');
      await expectStoreError(after.get(legacy.clientToken), 'CORRUPT');

      const migrating = await RedisStore.connect<TestSession>({
        ...plainOptions(),
        storeEncryptionKeys: [fresh, old],
        storeEncryptionAllowPlaintext: true,
      });
      expect(await migrating.get(legacy.clientToken)).toEqual(legacy);
      await migrating.update(legacy.clientToken, (cur) => ({ value: { ...cur, counter: 1 }, ttlMs: 10_000, result: 0 }));
      expect(await plain.cli(['GET', migrating.keysOf(legacy.clientToken).session], { password: PW })).toMatch(/^2:enc1\.new\./);
      await Promise.all([before, unencrypted, after, migrating].map((x) => x.close()));
    });
  });

  it('fails fast with UNAVAILABLE while Redis is down and recovers on the same instance', async () => {
    const down = await startRedis({ password: PW });
    const options = { redisAddr: down.addr, redisPw: PW, redisNoTls: true, redisTimeoutMs: 1000 };
    const store = await RedisStore.connect<TestSession>(options);
    const other = await RedisStore.connect<TestSession>(options);
    const s = newSession();
    await store.create(s, 60_000);
    const seen: number[] = [];
    await store.subscribe(s.clientToken, (v) => seen.push(v.counter));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await down.stop('SIGKILL');
      const started = Date.now();
      const results = await Promise.allSettled([
        store.get(s.clientToken),
        store.update(s.clientToken, (cur) => ({ value: cur, ttlMs: 1000, result: 0 })),
        store.ping(),
        store.clientTokenOf(s.requestorToken),
      ]);
      expect(Date.now() - started).toBeLessThan(4000);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
        expect(((r as PromiseRejectedResult).reason as StoreError).code).toBe('UNAVAILABLE');
      }
      // same port, empty data (no persistence): the same instance must work again
      await down.start();
      await eventually(async () => store.ping().then(() => true, () => false), 10_000);
      const again = newSession();
      await store.create(again, 60_000);
      expect(await store.get(again.clientToken)).toEqual(again);
      // the subscriber connection came back and resubscribed
      const s2 = { ...again };
      const seen2: number[] = [];
      await store.subscribe(s2.clientToken, (v) => seen2.push(v.counter));
      await eventually(async () => other.ping().then(() => true, () => false), 10_000);
      await other.update(s2.clientToken, (cur) => ({ value: { ...cur, counter: 5 }, ttlMs: 60_000, result: 0 }));
      await eventually(() => seen2.includes(5));
      await sleep(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await store.close();
      await other.close();
    }
  }, 30_000);

  it('bounds every operation in time while Redis stops answering, and works on once it answers again', async () => {
    const hung = await startRedis({ password: PW });
    const store = await RedisStore.connect<TestSession>({ redisAddr: hung.addr, redisPw: PW, redisNoTls: true, redisTimeoutMs: 800 });
    try {
      const s = newSession();
      await store.create(s, 60_000);
      // The connection stays open but nothing answers: only the store's own deadline ends a call.
      hung.child!.kill('SIGSTOP');
      const started = Date.now();
      const results = await Promise.allSettled([
        ...Array.from({ length: 50 }, () => store.get(s.clientToken)),
        store.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 1 }, ttlMs: 60_000, result: 0 })),
        store.ping(),
      ]);
      expect(Date.now() - started).toBeLessThan(3000);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect(((r as PromiseRejectedResult).reason as StoreError).code).toBe('UNAVAILABLE');
      }
      hung.child!.kill('SIGCONT');
      // What was queued meanwhile is answered and dropped; new calls get their own answers.
      await eventually(async () => store.ping().then(() => true, () => false), 10_000);
      const read = await store.get(s.clientToken);
      expect(read?.clientToken).toBe(s.clientToken);
      const after = newSession();
      await store.create(after, 60_000);
      expect(await store.get(after.clientToken)).toEqual(after);
    } finally {
      hung.child?.kill('SIGCONT');
      await store.close();
    }
  }, 30_000);

  it('drops a subscription ended while Redis was down once it is back, and hears the others again', async () => {
    const down = await startRedis({ password: PW });
    const options = { redisAddr: down.addr, redisPw: PW, redisNoTls: true, redisTimeoutMs: 1000 };
    const store = await RedisStore.connect<TestSession>(options);
    const writer = await RedisStore.connect<TestSession>(options);
    try {
      const [kept, ended] = [newSession(), newSession()];
      await Promise.all([store.create(kept, 60_000), store.create(ended, 60_000)]);
      const heard: number[] = [];
      await store.subscribe(kept.clientToken, (v) => heard.push(v.counter));
      const unsubscribe = await store.subscribe(ended.clientToken, () => undefined);
      const channel = store.keysOf(ended.clientToken).channel;
      expect(await down.cli(['PUBSUB', 'NUMSUB', channel], { password: PW })).toBe(`${channel}\n1`);

      await down.stop('SIGKILL');
      await expectStoreError(unsubscribe(), 'UNAVAILABLE');
      await down.start();
      // Redis came back empty (no persistence): the writer puts the kept session back and changes it.
      await eventually(async () => writer.create(kept, 60_000).then(() => true, () => false), 10_000);
      await eventually(async () => {
        await writer.update(kept.clientToken, (cur) => ({ value: { ...cur, counter: cur.counter + 1 }, ttlMs: 60_000, result: 0 }));
        return heard.length > 0;
      }, 10_000);
      await eventually(async () => (await down.cli(['PUBSUB', 'NUMSUB', channel], { password: PW })) === `${channel}\n0`, 5_000);
      expect(store.available).toBe(true);
    } finally {
      await Promise.all([store.close(), writer.close()]);
    }
  }, 30_000);

  it('describes the server for the check command, and reports an unreachable one', async () => {
    const d = await describeRedis({ ...setups['TLS with the test CA'](), redisWaitReplicas: 1, storeEncryptionKeys: ring });
    expect(d).toMatchObject({ mode: 'standalone', tls: true, user: 'default', reachable: true, encryption: true, replicas: 0 });
    expect(d.serverVersion).toMatch(/^7\./);
    expect(d.nodes).toEqual([expect.objectContaining({ address: tls.addr, role: 'master', connectedReplicas: 0 })]);
    expect(d.problems).toEqual([expect.stringMatching(/redis_wait_replicas is 1 but only 0 replicas/)]);

    const acld = await describeRedis(setups['ACL user with key prefixes']());
    expect(acld).toMatchObject({ user: 'irma', keyPrefix: 'irma:', tls: false, reachable: true });
    expect(acld.problems).toEqual(expect.arrayContaining([expect.stringMatching(/TLS is disabled/), expect.stringMatching(/unencrypted/)]));

    const gone = await startRedis({ password: PW });
    await gone.stop();
    const started = Date.now();
    const down = await describeRedis({ redisAddr: gone.addr, redisPw: PW, redisNoTls: true, redisTimeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(down.reachable).toBe(false);
    expect(down.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^cannot connect/)]));
  });
});
