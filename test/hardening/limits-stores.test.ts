// The two cases that need more than the default harness: deep JSON with real crypto
// workers (it gave 500 "verification input cannot be sent to a crypto worker"), and the bytes a
// session may take in Redis (a 9 MiB signature message stored ~23 MB there, without bound).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type BuiltServer } from '../../src/server/index.js';
import { defaultOptions, type ServerOptions } from '../../src/server/options.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { startRedis, stopAll, type RedisProcess } from '../support/redis.js';
import { APP_HEADERS, DISCLOSURE, referenceSchemes, ScriptedChecker } from '../server/harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const servers: BuiltServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  await stopAll();
});

async function server(patch: Partial<ServerOptions>, checker?: ScriptedChecker): Promise<BuiltServer> {
  const options: ServerOptions = { ...defaultOptions(false), url: 'http://irma.example.com', schemesPath: REFERENCE_SCHEMES, ...patch };
  const s = await createServer(options, { schemes: await referenceSchemes(), checker, logger: pino({ level: 'silent' }) });
  servers.push(s);
  return s;
}

async function connected(s: BuiltServer, request: unknown = DISCLOSURE) {
  const res = await s.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(request) });
  expect(res.statusCode, res.body).toBe(200);
  const pkg = res.json() as { token: string; sessionPtr: { u: string } };
  const ct = pkg.sessionPtr.u.split('/').pop()!;
  expect((await s.main.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS })).statusCode).toBe(200);
  return { ct, token: pkg.token };
}

describe('deep JSON with crypto workers', () => {
  it('is a 400 in the protocol format, 32 times out of 32, and the session stays CONNECTED', async () => {
    const s = await server({ cryptoWorkers: 1 });
    const { ct, token } = await connected(s);
    const deep = (d: number) => '['.repeat(d) + ']'.repeat(d);
    const bodies = Array.from({ length: 32 }, (_, i) =>
      i % 2 === 0 ? deep(5000 + i) : `{"proofs":[],"indices":[[]],"ignored":${deep(5000 + i)}}`,
    );
    for (const payload of bodies) {
      const res = await s.main.inject({ method: 'POST', url: `/irma/session/${ct}/proofs`, headers: { ...APP_HEADERS, 'content-type': 'application/json' }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ status: 400, error: 'MALFORMED_INPUT', description: 'Input could not be parsed', message: 'JSON nested more than 64 levels deep' });
    }
    expect((await s.main.inject({ method: 'GET', url: `/session/${token}/status` })).json()).toBe('CONNECTED');
  }, 60_000);
});

describe('stored bytes per session in Redis', () => {
  const PASSWORD = 'limits-test-password';
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
  }, 30_000);

  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.cli(['INFO', 'memory'], { password: PASSWORD }))![1]);

  it('refuses oversized sessions before Redis sees them, and keeps the rest within max_session_size', async () => {
    const s = await server(
      { storeType: 'redis', redis: { redisAddr: redis.addr, redisPw: PASSWORD, redisNoTls: true }, limits: { maxSessionSize: 1 * MiB } },
      new ScriptedChecker(),
    );
    const signature = (message: string) => ({ '@context': 'https://irma.app/ld/request/signature/v2', message, disclose: DISCLOSURE.disclose });
    const before = await usedMemory();
    // The 9 MiB message: refused by the body limit, 20 times over.
    for (let i = 0; i < 20; i++) {
      const res = await s.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(signature('x'.repeat(9 * MiB))) });
      expect(res.json()).toMatchObject({ error: 'INVALID_REQUEST', message: 'http: request body too large' });
    }
    // Under the body limit but over the session bound (the message is stored twice): refused too.
    const big = await s.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(signature('y'.repeat(700 * KiB))) });
    expect(big.json()).toMatchObject({ error: 'INVALID_REQUEST', message: expect.stringMatching(/exceeds max_session_size \(1048576\)/) });
    expect(await usedMemory()).toBeLessThan(before + 1 * MiB);
    // A message that fits is stored, in well under the bound per session.
    const { ct } = await connected(s, signature('z'.repeat(300 * KiB)));
    const keys = (await redis.cli(['--scan'], { password: PASSWORD })).split('\n').filter((k) => k.includes(ct));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const type = (await redis.cli(['TYPE', key], { password: PASSWORD })).trim();
      if (type !== 'string') continue;
      expect(Number(await redis.cli(['STRLEN', key], { password: PASSWORD }))).toBeLessThanOrEqual(1 * MiB);
    }
  }, 60_000);
});
