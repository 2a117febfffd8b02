// Two server instances on one real Redis (spec §11; §13.32): a session finishes with requests
// alternating between them, status events cross instances, keys carry TTLs, and a Redis outage
// is a 503 with the reference's INTERNAL_ERROR type (the reference answers 500), not a crash.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type BuiltServer } from '../../src/server/index.js';
import { defaultOptions, type ServerOptions } from '../../src/server/options.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { startRedis, stopAll, type RedisProcess } from '../support/redis.js';
import { APP_HEADERS, DISCLOSURE, referenceSchemes, ScriptedChecker } from './harness.js';

const PASSWORD = 'server-test-password';
let redis: RedisProcess;
const servers: BuiltServer[] = [];

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
}, 30_000);
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  await stopAll();
});

async function instance(): Promise<BuiltServer> {
  const options: ServerOptions = {
    ...defaultOptions(false),
    url: 'http://irma.example.com',
    schemesPath: REFERENCE_SCHEMES,
    storeType: 'redis',
    sse: true,
    redis: { redisAddr: redis.addr, redisPw: PASSWORD, redisNoTls: true, redisTimeoutMs: 1000 },
  };
  const s = await createServer(options, { schemes: await referenceSchemes(), checker: new ScriptedChecker(), logger: pino({ level: 'silent' }) });
  servers.push(s);
  return s;
}

describe('two instances on one Redis', () => {
  it('finish a session with alternating requests, keys expiring by TTL', async () => {
    const [a, b] = [await instance(), await instance()];
    const pkg = (await a.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(DISCLOSURE) })).json();
    const ct = pkg.sessionPtr.u.split('/').pop();
    expect((await b.main.inject({ method: 'GET', url: `/session/${pkg.token}/status` })).body).toBe('"INITIALIZED"');
    expect((await b.main.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS })).statusCode).toBe(200);
    const proofs = await a.main.inject({ method: 'POST', url: `/irma/session/${ct}/proofs`, headers: APP_HEADERS, payload: '{}' });
    expect(proofs.json()).toEqual({ proofStatus: 'VALID' });
    const retry = await b.main.inject({ method: 'POST', url: `/irma/session/${ct}/proofs`, headers: APP_HEADERS, payload: '{}' });
    expect(retry.body).toBe(proofs.body);
    expect((await b.main.inject({ method: 'GET', url: `/session/${pkg.token}/result` })).json()).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });

    const keys = (await redis.cli(['--scan'], { password: PASSWORD })).split('\n').filter((k) => k.includes(pkg.token.slice(0, 4)));
    expect(keys.some((k) => k.endsWith(ct))).toBe(true);
    expect(keys.some((k) => k.endsWith(pkg.token))).toBe(true);
    for (const key of keys) {
      const ttl = Number(await redis.cli(['PTTL', key], { password: PASSWORD }));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5 * 60_000);
    }
  });

  it('delivers status events from the other instance', async () => {
    const [a, b] = [await instance(), await instance()];
    await b.main.listen({ port: 0, host: '127.0.0.1' });
    const port = (b.main.server.address() as { port: number }).port;
    const pkg = (await a.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(DISCLOSURE) })).json();
    const ct = pkg.sessionPtr.u.split('/').pop();
    const res = await fetch(`http://127.0.0.1:${port}/session/${pkg.token}/statusevents`);
    const reader = res.body!.getReader();
    let text = '';
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })();
    const until = async (s: string) => {
      for (let i = 0; i < 300 && !text.includes(s); i++) await new Promise((r) => setTimeout(r, 10));
      expect(text).toContain(s);
    };
    await until('event: open\n\n');
    await a.main.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS });
    await until('data: "CONNECTED"\n\n');
    await a.main.inject({ method: 'DELETE', url: `/session/${pkg.token}` });
    await read;
    expect(text).toBe('event: open\n\ndata: "CONNECTED"\n\ndata: "CANCELLED"\n\n');
  });

  it('answers 503 INTERNAL_ERROR while Redis is down', async () => {
    const a = await instance();
    const pkg = (await a.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(DISCLOSURE) })).json();
    const ct = pkg.sessionPtr.u.split('/').pop();
    await redis.stop();
    const calls = [
      a.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(DISCLOSURE) }),
      a.main.inject({ method: 'GET', url: `/session/${pkg.token}/status` }),
      a.main.inject({ method: 'GET', url: `/session/${pkg.token}/result` }),
      a.main.inject({ method: 'DELETE', url: `/session/${pkg.token}` }),
      a.main.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS }),
      a.main.inject({ method: 'GET', url: '/health' }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        status: 503,
        error: 'INTERNAL_ERROR',
        description: 'Internal server error',
        message: 'session store unavailable',
      });
    }
  }, 20_000);
});
