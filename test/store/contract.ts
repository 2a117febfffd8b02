// The one behaviour every SessionStore must show, run against memory and each Redis setup.
// `open` yields a store instance sharing the backend with the others it yields (for Redis a
// separate connection, like a separate server process).

import { afterAll, describe, expect, it } from 'vitest';
import { StoreError, type SessionStore } from '../../src/store/store.js';
import { newSession, type TestSession } from './sessions.js';

export { newSession, type TestSession };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

export async function expectStoreError(p: Promise<unknown>, code: StoreError['code']): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe(code);
}

export type OpenStore = () => Promise<SessionStore<TestSession>>;

const TTL = 60_000;

export function describeStoreContract(name: string, getOpen: () => OpenStore): void {
  describe(`SessionStore contract: ${name}`, () => {
    const opened: SessionStore<TestSession>[] = [];
    const open = async (): Promise<SessionStore<TestSession>> => {
      const store = await getOpen()();
      if (!opened.includes(store)) opened.push(store);
      return store;
    };
    afterAll(async () => {
      await Promise.allSettled(opened.map((s) => s.close()));
    });

    it('creates, reads and looks up by requestor token', async () => {
      const a = await open();
      const b = await open();
      const s = newSession();
      await a.create(s, TTL);
      expect(await b.get(s.clientToken)).toEqual(s);
      expect(await b.clientTokenOf(s.requestorToken)).toBe(s.clientToken);
      const other = newSession();
      expect(await b.get(other.clientToken)).toBeUndefined();
      expect(await b.clientTokenOf(other.requestorToken)).toBeUndefined();
    });

    it('refuses a second session under a taken token', async () => {
      const a = await open();
      const b = await open();
      const s = newSession();
      await a.create(s, TTL);
      await expectStoreError(b.create({ ...s, counter: 9 }, TTL), 'CONFLICT');
      const sameRt = { ...newSession(), requestorToken: s.requestorToken };
      sameRt.clientToken = s.requestorToken.slice(0, 4) + sameRt.clientToken.slice(4);
      await expectStoreError(b.create(sameRt, TTL), 'CONFLICT');
      expect(await a.get(sameRt.clientToken)).toBeUndefined();
      expect(await a.get(s.clientToken)).toEqual(s);
    });

    it('updates atomically and hands back the mutation result', async () => {
      const a = await open();
      const b = await open();
      const s = newSession();
      await a.create(s, TTL);
      const r = await b.update(s.clientToken, (cur) => ({
        value: { ...cur, status: 'CONNECTED' as const, counter: cur.counter + 1 },
        ttlMs: TTL,
        result: `was ${cur.status}`,
      }));
      expect(r).toBe('was INITIALIZED');
      expect(await a.get(s.clientToken)).toEqual({ ...s, status: 'CONNECTED', counter: 1 });
      // no value: nothing written, result still returned
      const seen = await a.update(s.clientToken, (cur) => ({ result: cur.counter }));
      expect(seen).toBe(1);
      expect((await b.get(s.clientToken))?.counter).toBe(1);
    });

    it('reports an unknown session on update', async () => {
      const a = await open();
      await expectStoreError(
        a.update(newSession().clientToken, (cur) => ({ value: cur, ttlMs: TTL, result: 0 })),
        'SESSION_UNKNOWN',
      );
    });

    it('rejects writes without a positive ttl or with changed tokens, leaving the session as it was', async () => {
      const a = await open();
      const s = newSession();
      await expect(a.create(s, 0)).rejects.toBeInstanceOf(RangeError);
      await a.create(s, TTL);
      await expect(
        a.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 5 }, ttlMs: -1, result: 0 })),
      ).rejects.toBeInstanceOf(RangeError);
      await expect(
        a.update(s.clientToken, (cur) => ({
          value: { ...cur, requestorToken: newSession().requestorToken },
          ttlMs: TTL,
          result: 0,
        })),
      ).rejects.toBeInstanceOf(TypeError);
      expect(await a.get(s.clientToken)).toEqual(s);
    });

    it('never lets callers mutate stored state', async () => {
      // A store may hand out copies (edits stay the caller's) or frozen values (edits throw);
      // either way no edit of a value going in or coming out reaches the stored session.
      const attempt = (edit: () => void): void => {
        try {
          edit();
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
        }
      };
      const a = await open();
      const s = newSession();
      await a.create(s, TTL);
      attempt(() => s.nested.list.push(4));
      attempt(() => (s.counter = 42));
      const got = await a.get(s.clientToken);
      expect(got?.nested.list).toEqual([1, 2, 3]);
      attempt(() => got!.nested.list.push(5));
      expect((await a.get(s.clientToken))?.nested.list).toEqual([1, 2, 3]);

      let written: TestSession | undefined;
      await a.update(s.clientToken, (cur) => {
        written = { ...cur, counter: 1 };
        return { value: written, ttlMs: TTL, result: 0 };
      });
      attempt(() => (written!.nested.list.length = 0));
      attempt(() => (written!.counter = 99));
      // a mutation that edits its input but writes nothing must leave no trace
      await a
        .update(s.clientToken, (cur) => {
          cur.nested.list.push(7);
          cur.status = 'DONE';
          return { result: 0 };
        })
        .catch((err: unknown) => expect(err).toBeInstanceOf(TypeError));
      const after = await a.get(s.clientToken);
      expect(after?.counter).toBe(1);
      expect(after?.status).toBe('INITIALIZED');
      expect(after?.nested.list).toEqual([1, 2, 3]);
    });

    it('leaves the session as it was when a mutation throws half-way', async () => {
      const a = await open();
      const s = newSession();
      await a.create(s, TTL);
      await expect(
        a.update(s.clientToken, (cur) => {
          const next = { ...cur, counter: 7, nested: { list: [...cur.nested.list, 4] } };
          if (next.counter === 7) throw new Error('changed its mind');
          return { value: next, ttlMs: TTL, result: 0 };
        }),
      ).rejects.toThrow('changed its mind');
      expect(await a.get(s.clientToken)).toEqual(s);
    });

    it('expires sessions by ttl, and each write renews both keys', async () => {
      const a = await open();
      const short = newSession();
      const renewed = newSession();
      await a.create(short, 300);
      await a.create(renewed, 300);
      await a.update(renewed.clientToken, (cur) => ({ value: { ...cur, counter: 1 }, ttlMs: 10_000, result: 0 }));
      await sleep(700);
      expect(await a.get(short.clientToken)).toBeUndefined();
      expect(await a.clientTokenOf(short.requestorToken)).toBeUndefined();
      await expectStoreError(
        a.update(short.clientToken, (cur) => ({ value: cur, ttlMs: TTL, result: 0 })),
        'SESSION_UNKNOWN',
      );
      expect((await a.get(renewed.clientToken))?.counter).toBe(1);
      expect(await a.clientTokenOf(renewed.requestorToken)).toBe(renewed.clientToken);
    });

    it('delivers every committed value to subscribers on any instance, until unsubscribed', async () => {
      const writer = await open();
      const reader = await open();
      const s = newSession();
      await writer.create(s, TTL);
      const seen: TestSession[] = [];
      const unsubscribe = await reader.subscribe(s.clientToken, (v) => seen.push(v));
      for (let i = 1; i <= 3; i++) {
        await writer.update(s.clientToken, (cur) => ({ value: { ...cur, counter: i }, ttlMs: TTL, result: 0 }));
      }
      await eventually(() => seen.length >= 3);
      expect(seen.map((v) => v.counter)).toEqual([1, 2, 3]);
      expect(seen[2]).toEqual({ ...s, counter: 3 });
      try {
        seen[2].nested.list.push(9);
      } catch (err) {
        expect(err).toBeInstanceOf(TypeError); // a frozen value
      }
      expect((await writer.get(s.clientToken))?.nested.list).toEqual([1, 2, 3]);

      await unsubscribe();
      await writer.update(s.clientToken, (cur) => ({ value: { ...cur, counter: 4 }, ttlMs: TTL, result: 0 }));
      await sleep(150);
      expect(seen).toHaveLength(3);
    });

    it('retries on conflict: concurrent increments from several instances all land', async () => {
      const stores = await Promise.all([open(), open(), open()]);
      const s = newSession();
      await stores[0].create(s, TTL);
      const n = 30;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          stores[i % stores.length].update(s.clientToken, (cur) => ({
            value: { ...cur, counter: cur.counter + 1 },
            ttlMs: TTL,
            result: cur.counter + 1,
          })),
        ),
      );
      expect((await stores[1].get(s.clientToken))?.counter).toBe(n);
      expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    });

    it('commits a transition exactly once when many instances race for it', async () => {
      const stores = await Promise.all([open(), open(), open(), open()]);
      for (let round = 0; round < 10; round++) {
        const s = newSession('CONNECTED');
        await stores[0].create(s, TTL);
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            stores[i % stores.length].update(s.clientToken, (cur) =>
              cur.status === 'CONNECTED'
                ? { value: { ...cur, status: 'DONE' as const, result: `winner ${i}` }, ttlMs: TTL, result: `won ${i}` }
                : { result: 'lost' },
            ),
          ),
        );
        const winners = outcomes.filter((o) => o !== 'lost');
        expect(winners).toHaveLength(1);
        const final = await stores[1].get(s.clientToken);
        expect(final?.status).toBe('DONE');
        expect(final?.result).toBe(winners[0].replace('won', 'winner'));
      }
    });
  });
}
