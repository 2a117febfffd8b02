// Rate limits on starting sessions, per client address and per requestor: in memory on one
// server, and shared through Redis by two real server processes.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultOptions } from '../../src/server/options.js';
import { sessionRateLimitSettings } from '../../src/server/session-rate-limits.js';
import { startRedis, stopAll } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { startServers, stopAllServers } from '../support/server-process.js';
import { DISCLOSURE, makeHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await stopAllServers();
  await stopAll();
});

const start = (harness: Harness, from = '127.0.0.1', headers: Record<string, string> = {}) =>
  harness.inject({
    method: 'POST',
    url: '/session',
    remoteAddress: from,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(DISCLOSURE),
  });
const startStatic = (harness: Harness, from = '127.0.0.1') =>
  harness.inject({ method: 'POST', url: '/irma/session/hello', remoteAddress: from });

function expectRefused(res: { statusCode: number; headers: Record<string, unknown>; json(): any }, windowSeconds: number) {
  expect(res.statusCode).toBe(429);
  expect(res.json()).toMatchObject({ status: 429, error: 'TOO_MANY_REQUESTS', description: 'Too many requests' });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
}

describe('defaults', () => {
  it('has no limits in development, as the reference, and limits in production', () => {
    expect(sessionRateLimitSettings(defaultOptions(false))).toEqual({ address: 0, requestor: 0, windowMs: 60_000 });
    expect(sessionRateLimitSettings(defaultOptions(true))).toEqual({ address: 120, requestor: 6000, windowMs: 60_000 });
    expect(sessionRateLimitSettings({ ...defaultOptions(true), sessionRateLimitAddress: 0 }).address).toBe(0);
  });

  it('lets a development server start sessions without limit', async () => {
    h = await makeHarness();
    for (let i = 0; i < 150; i++) expect((await start(h)).statusCode).toBe(200);
  });
});

describe('in memory', () => {
  it('counts the address a trusted proxy forwarded, and ignores the header from anyone else', async () => {
    h = await makeHarness({ sessionRateLimitAddress: 2, trustedProxies: ['10.0.0.0/8'] });
    const via = (proxy: string, client: string) => start(h!, proxy, { 'x-forwarded-for': client });
    // Two clients behind the trusted proxy: each has its own allowance.
    for (let i = 0; i < 2; i++) {
      expect((await via('10.1.2.3', '198.51.100.1')).statusCode).toBe(200);
      expect((await via('10.1.2.3', '198.51.100.2')).statusCode).toBe(200);
    }
    expectRefused(await via('10.1.2.3', '198.51.100.1'), 60);
    // A chain: the proxy's own forwarder is trusted too, the client is the first untrusted hop.
    expect((await via('10.1.2.3', '198.51.100.3, 10.9.9.9')).statusCode).toBe(200);
    // From an untrusted peer the header is the peer's own claim: its address counts, whatever it says.
    expect((await via('203.0.113.7', '198.51.100.4')).statusCode).toBe(200);
    expect((await via('203.0.113.7', '198.51.100.5')).statusCode).toBe(200);
    expectRefused(await via('203.0.113.7', '198.51.100.6'), 60);
  });

  it('refuses a client address over its limit with 429 and Retry-After, other addresses go on', async () => {
    h = await makeHarness({
      sessionRateLimitAddress: 3,
      sessionRateLimitWindow: 60,
      staticSessions: { hello: { request: DISCLOSURE } },
    });
    expect((await start(h, '10.0.0.1')).statusCode).toBe(200);
    expect((await startStatic(h, '10.0.0.1')).statusCode).toBe(200);
    expect((await start(h, '10.0.0.1')).statusCode).toBe(200);
    expectRefused(await start(h, '10.0.0.1'), 60);
    expectRefused(await startStatic(h, '10.0.0.1'), 60);
    expect((await start(h, '10.0.0.2')).statusCode).toBe(200);
    // Only session starts count: the rest of the API is not limited.
    expect((await h.inject({ method: 'GET', url: '/session/nosuchsessiontoken1234/status', remoteAddress: '10.0.0.1' })).statusCode).toBe(400);
  });

  it('refuses a requestor over its limit after authentication; failed authentication costs it nothing', async () => {
    h = await makeHarness({
      noAuth: false,
      requestors: {
        alice: { authMethod: 'token', key: 'alice-token' },
        bob: { authMethod: 'token', key: 'bob-token' },
      },
      sessionRateLimitRequestor: 2,
      staticSessions: { hello: { request: DISCLOSURE } },
    });
    // Someone without alice's token tries many times from many addresses.
    for (let i = 0; i < 5; i++) expect((await start(h, `10.1.0.${i}`, { authorization: 'not-alice' })).statusCode).toBe(403);
    expect((await start(h, '10.0.0.1', { authorization: 'alice-token' })).statusCode).toBe(200);
    expect((await start(h, '10.0.0.2', { authorization: 'alice-token' })).statusCode).toBe(200);
    expectRefused(await start(h, '10.0.0.3', { authorization: 'alice-token' }), 60);
    expect((await start(h, '10.0.0.1', { authorization: 'bob-token' })).statusCode).toBe(200);
    // A static session counts as a requestor of its own.
    expect((await startStatic(h, '10.0.0.4')).statusCode).toBe(200);
    expect((await startStatic(h, '10.0.0.5')).statusCode).toBe(200);
    expectRefused(await startStatic(h, '10.0.0.6'), 60);
  });

  it('allows starts again once the window has passed', async () => {
    h = await makeHarness({ sessionRateLimitAddress: 1, sessionRateLimitWindow: 1 });
    expect((await start(h)).statusCode).toBe(200);
    expectRefused(await start(h), 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await start(h)).statusCode).toBe(200);
  });
});

describe('two processes on one Redis', () => {
  it('share the counts per address and per requestor', async () => {
    const pw = randomBytes(8).toString('hex');
    const redis = await startRedis({ password: pw });
    const [a, b] = await startServers(2, () => [
      '--store-type', 'redis',
      '--redis-addr', redis.addr,
      '--redis-pw', pw,
      '--redis-no-tls',
      '--schemes-path', REFERENCE_SCHEMES,
      '--session-rate-limit-address', '5',
      '--session-rate-limit-requestor', '2',
      '--requestors', JSON.stringify({ alice: { auth_method: 'token', key: 'alice-token' } }),
      '--no-auth=false',
    ], 60_000);
    const post = (base: string, authorization: string) =>
      fetch(`${base}/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(DISCLOSURE),
      });
    // One address (loopback), alternately at each process: the counts are shared, not per process.
    const answers: Array<[number, string]> = [];
    for (const [i, auth] of ['alice-token', 'alice-token', 'alice-token', 'wrong', 'wrong', 'wrong'].entries()) {
      const res = await post(i % 2 ? b.base : a.base, auth);
      const body = await res.json();
      answers.push([res.status, body.message ?? '']);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // alice's third start is over her 2; every attempt counts for the address, whose 6th is over its 5.
    expect(answers.map(([status]) => status)).toEqual([200, 200, 429, 403, 403, 429]);
    expect(answers[2][1]).toMatch(/by this requestor/);
    expect(answers[5][1]).toMatch(/from this address/);
    await Promise.all([a.kill(), b.kill()]);
    await redis.stop();
  }, 120_000);
});
