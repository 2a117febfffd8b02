// The timestamp-server trust check on its own: what it asks, how it reads answers, and what it
// remembers (bounded, until the answer's Expires), with a scripted fetch and a test clock.
import { describe, expect, it } from 'vitest';
import { createTimestampTrust } from '../../src/server/timestamp-trust.js';

const KEY = new Uint8Array(32).fill(7);
const KEY_HEX = '07'.repeat(32);
const T0 = 1_800_000_000;

function scripted(answer: (url: string) => Response | Promise<Response>) {
  const urls: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    urls.push(String(input));
    return answer(String(input));
  }) as typeof globalThis.fetch;
  return { urls, fetch };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

describe('timestamp trust', () => {
  it('asks <url>checkPublicKey with alg and hex key, adding the slash the url may lack', async () => {
    const s = scripted(() => json({ Trusted: true, Expires: T0 + 10 }));
    const trust = createTimestampTrust({ fetch: s.fetch, now: () => T0 * 1000 });
    expect(await trust.check('https://tsa.example/atum', KEY, T0)).toEqual({ trusted: true });
    expect(s.urls).toEqual([`https://tsa.example/atum/checkPublicKey?alg=ed25519&pk=${KEY_HEX}`]);
  });

  it('reads field names case-insensitively and Expires as Unix seconds or RFC 3339', async () => {
    for (const body of [
      { trusted: true, expires: T0 + 5 },
      { Trusted: true, Expires: new Date((T0 + 5) * 1000).toISOString() },
      { TRUSTED: true, Expires: '2027-01-15T10:00:00.123456789+01:00' },
    ]) {
      const trust = createTimestampTrust({ fetch: scripted(() => json(body)).fetch, now: () => T0 * 1000 });
      expect(await trust.check('https://t/', KEY, T0)).toEqual({ trusted: true });
    }
  });

  it('refuses untrusted keys, expired trust, Go zero times and malformed answers', async () => {
    const cases: Array<[unknown, string]> = [
      [{ Trusted: false, Expires: T0 + 5 }, 'untrusted'],
      [{ Trusted: true, Expires: T0 - 1 }, 'expired'],
      [{ Trusted: true, Expires: '0001-01-01T00:00:00Z' }, 'expired'],
      [{ Trusted: 'yes', Expires: T0 + 5 }, 'untrusted'],
      [[true], 'unreachable'],
    ];
    for (const [body, reason] of cases) {
      const trust = createTimestampTrust({ fetch: scripted(() => json(body)).fetch, now: () => T0 * 1000 });
      expect(await trust.check('https://t/', KEY, T0), JSON.stringify(body)).toMatchObject({ trusted: false, reason });
    }
    const notJson = createTimestampTrust({ fetch: scripted(() => new Response('<html>')).fetch });
    expect(await notJson.check('https://t/', KEY, T0)).toMatchObject({ trusted: false, reason: 'unreachable' });
    const huge = createTimestampTrust({ fetch: scripted(() => new Response(' '.repeat(100_000) + '{}')).fetch });
    expect(await huge.check('https://t/', KEY, T0)).toMatchObject({ trusted: false, reason: 'unreachable', detail: /too large/ });
    const failing = createTimestampTrust({ fetch: (async () => Promise.reject(new TypeError('fetch failed'))) as typeof fetch });
    expect(await failing.check('https://t/', KEY, T0)).toMatchObject({ trusted: false, reason: 'unreachable' });
  });

  it('remembers a trusted key until its Expires, then asks again', async () => {
    const s = scripted(() => json({ Trusted: true, Expires: T0 + 100 }));
    let now = T0 * 1000;
    const trust = createTimestampTrust({ fetch: s.fetch, now: () => now });
    await trust.check('https://t/', KEY, T0);
    now += 99_000;
    expect(await trust.check('https://t/', KEY, T0 + 50)).toEqual({ trusted: true });
    expect(s.urls).toHaveLength(1);
    now += 2_000;
    await trust.check('https://t/', KEY, T0 + 50);
    expect(s.urls).toHaveLength(2);
  });

  it('keys the cache by server and key, bounded in size (least recently used goes first)', async () => {
    const s = scripted(() => json({ Trusted: true, Expires: T0 + 100 }));
    const trust = createTimestampTrust({ fetch: s.fetch, now: () => T0 * 1000, maxEntries: 2 });
    await trust.check('https://a/', KEY, T0);
    await trust.check('https://b/', KEY, T0);
    await trust.check('https://a/', KEY, T0); // cached; a is now the most recent
    expect(s.urls).toHaveLength(2);
    await trust.check('https://c/', KEY, T0); // evicts b
    await trust.check('https://a/', KEY, T0);
    expect(s.urls).toHaveLength(3);
    await trust.check('https://b/', KEY, T0);
    expect(s.urls).toHaveLength(4);
  });

  it('shares one request among concurrent checks of the same key', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = scripted(async () => {
      await gate;
      return json({ Trusted: true, Expires: T0 + 100 });
    });
    const trust = createTimestampTrust({ fetch: s.fetch, now: () => T0 * 1000 });
    const all = Promise.all([1, 2, 3].map(() => trust.check('https://t/', KEY, T0)));
    release();
    expect(await all).toEqual([{ trusted: true }, { trusted: true }, { trusted: true }]);
    expect(s.urls).toHaveLength(1);
  });
});
