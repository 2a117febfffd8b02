import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { describeStoreContract, expectStoreError, newSession, type TestSession } from './contract.js';

// Instances of the memory store share nothing, so every "instance" is the same store.
const shared = new MemoryStore<TestSession>();
describeStoreContract('memory', () => async () => shared);

describe('MemoryStore', () => {
  it('drops expired sessions in the sweep, without any read', async () => {
    let now = 1_000;
    let clockReads = 0;
    const store = new MemoryStore<TestSession>({ now: () => (clockReads++, now), sweepIntervalMs: 10 });
    const s = newSession();
    await store.create(s, 100);
    expect(store.size).toBe(1);
    now += 101;
    clockReads = 0;
    await new Promise((r) => setTimeout(r, 40));
    // `size` sweeps by itself, so only the clock shows the timer swept in between.
    expect(clockReads).toBeGreaterThan(0);
    expect(store.size).toBe(0);
    expect(await store.clientTokenOf(s.requestorToken)).toBeUndefined();
    await store.close();
  });

  it('keeps a listener failure away from the writer and other listeners', async () => {
    const store = new MemoryStore<TestSession>();
    const s = newSession();
    await store.create(s, 1000);
    const seen: number[] = [];
    await store.subscribe(s.clientToken, () => {
      throw new Error('listener bug');
    });
    await store.subscribe(s.clientToken, (v) => seen.push(v.counter));
    await store.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 1 }, ttlMs: 1000, result: 0 }));
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([1]);
    await store.close();
  });

  it('is unavailable once closed', async () => {
    const store = new MemoryStore<TestSession>();
    await store.close();
    await expectStoreError(store.ping(), 'UNAVAILABLE');
    await expectStoreError(store.get(newSession().clientToken), 'UNAVAILABLE');
  });
});
