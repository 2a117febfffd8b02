// Session store throughput: memory versus a local Redis (plain and sealed values), for
// independent sessions and for one contended session (compare-and-set retries).

import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore } from '../src/store/redis.js';
import type { SessionStore } from '../src/store/store.js';
import { newSession, type TestSession } from '../test/store/sessions.js';
import { startRedis, stopAll } from '../test/support/redis.js';

const SESSIONS = 2000;
const CONCURRENCY = 64;
const TTL = 60_000;

async function inParallel(n: number, work: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await work(next++);
    }),
  );
  return performance.now() - started;
}

async function measure(name: string, stores: SessionStore<TestSession>[]): Promise<void> {
  const sessions = Array.from({ length: SESSIONS }, () => ({ ...newSession(), nested: { list: Array.from({ length: 200 }, (_, i) => i) } }));
  const pick = (i: number) => stores[i % stores.length];
  const rate = (ms: number, n = SESSIONS) => `${Math.round((n / ms) * 1000)}/s`;

  const create = await inParallel(SESSIONS, (i) => pick(i).create(sessions[i], TTL));
  const get = await inParallel(SESSIONS, (i) => pick(i).get(sessions[i].clientToken));
  const update = await inParallel(SESSIONS, (i) =>
    pick(i).update(sessions[i].clientToken, (cur) => ({ value: { ...cur, counter: cur.counter + 1 }, ttlMs: TTL, result: 0 })),
  );
  const hot = sessions[0].clientToken;
  const contendedN = 300;
  const contended = await inParallel(contendedN, (i) =>
    pick(i).update(hot, (cur) => ({ value: { ...cur, counter: cur.counter + 1 }, ttlMs: TTL, result: 0 })),
  );
  console.log(
    `store ${name.padEnd(32)} create ${rate(create).padStart(8)}  get ${rate(get).padStart(8)}  ` +
      `update ${rate(update).padStart(8)}  contended update ${rate(contended, contendedN).padStart(7)}`,
  );
}

export default async function (): Promise<void> {
  const memory = new MemoryStore<TestSession>();
  await measure('memory', [memory]);
  await memory.close();

  const redis = await startRedis({ password: 'bench' });
  try {
    const options = { redisAddr: redis.addr, redisPw: 'bench', redisNoTls: true };
    const keys = [{ id: 'bench', key: randomBytes(32).toString('base64') }];
    for (const [name, extra] of [
      ['redis', {}],
      ['redis sealed', { storeEncryptionKeys: keys }],
    ] as const) {
      // three instances: like three server processes sharing one Redis
      const stores = await Promise.all([0, 1, 2].map(() => RedisStore.connect<TestSession>({ ...options, ...extra })));
      await measure(`${name} (3 processes)`, stores);
      await Promise.all(stores.map((s) => s.close()));
    }
  } finally {
    await stopAll();
  }
}
