// One test per limit of limits.ts: each oversized request is refused in the protocol's error JSON,
// cheaply (event loop), without touching other sessions, and without the memory it asked for.
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/server/options.js';
import { APP_HEADERS, DISCLOSURE, makeHarness, startSession, type Harness } from '../server/harness.js';
import { startLive, type LiveServer } from '../server/live.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const ISSUANCE = 'https://irma.app/ld/request/issuance/v2';
const FULL_NAME = { credential: 'irma-demo.MijnOverheid.fullName', attributes: { firstnames: 'A', firstname: 'A', familyname: 'B' } };

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function harness(patch: Partial<ServerOptions> = {}): Promise<Harness> {
  const h = await makeHarness(patch);
  open.push(h);
  return h;
}

/** The longest the event loop was blocked while `run` ran, in ms. */
async function maxLoopDelay(run: () => Promise<void>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  try {
    await run();
    // The histogram learns of a blocked loop when its timer fires, late, after the block.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    histogram.disable();
  }
  return histogram.max / 1e6;
}

function signatureRequest(message: string) {
  return { '@context': 'https://irma.app/ld/request/signature/v2', message, disclose: DISCLOSURE.disclose };
}

function disclosureOf(disjunctions: number, attributesEach = 1) {
  const con = Array.from({ length: attributesEach }, () => 'irma-demo.MijnOverheid.fullName.firstname');
  return { '@context': DISCLOSURE['@context'], disclose: Array.from({ length: disjunctions }, () => [con]) };
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

async function postSession(h: Harness, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return h.inject({ method: 'POST', url: '/session', headers, payload: body });
}

/** A session the app has connected to, to check it is left as it was. */
async function connectedSession(h: Harness) {
  const s = await startSession(h);
  const res = await h.inject({ method: 'GET', url: `/irma/session/${s.ct}`, headers: APP_HEADERS });
  expect(res.statusCode).toBe(200);
  const before = await h.store.get(s.ct);
  return { ...s, before };
}

describe('body size per route', () => {
  it('refuses a 9 MiB signature message at POST /session, with little memory, many times over', async () => {
    const h = await harness();
    const body = JSON.stringify(signatureRequest('x'.repeat(9 * MiB)));
    const rss = process.memoryUsage().rss;
    for (let round = 0; round < 25; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => postSession(h, body)));
      for (const res of answers) {
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ status: 400, error: 'INVALID_REQUEST', message: 'http: request body too large' });
      }
    }
    // 200 accepted requests of this size took 4 GiB before; refused, they take next to nothing.
    expect(process.memoryUsage().rss - rss).toBeLessThan(512 * MiB);
  });

  it('accepts a signature message of a few hundred KiB, and the app gets it', async () => {
    const h = await harness();
    const message = 'm'.repeat(400 * KiB);
    const s = await startSession(h, signatureRequest(message));
    const res = await h.inject({ method: 'GET', url: `/irma/session/${s.ct}`, headers: APP_HEADERS });
    expect(res.statusCode).toBe(200);
    expect(res.json().request.message).toBe(message);
  });

  it('limits each route by its own option', async () => {
    const h = await harness({ limits: { maxSessionRequestSize: 2 * KiB, maxClientMessageSize: 3 * KiB, maxBodySize: 1 * KiB } });
    expect((await postSession(h, JSON.stringify(signatureRequest('x'.repeat(3 * KiB))))).json()).toMatchObject({ error: 'INVALID_REQUEST' });
    const s = await connectedSession(h);
    const proofs = await h.inject({
      method: 'POST',
      url: `/irma/session/${s.ct}/proofs`,
      headers: { ...APP_HEADERS, 'content-type': 'application/json' },
      payload: JSON.stringify({ proofs: [], indices: [], padding: 'p'.repeat(4 * KiB) }),
    });
    expect(proofs.statusCode).toBe(400);
    expect(proofs.json()).toMatchObject({ error: 'INVALID_REQUEST', message: 'http: request body too large' });
    const options = await h.inject({
      method: 'POST',
      url: `/irma/session/${s.ct}/frontend/options`,
      headers: { authorization: s.frontendAuth, 'content-type': 'application/json' },
      payload: JSON.stringify({ '@context': 'https://irma.app/ld/options/v1', pairingMethod: 'pin', padding: 'p'.repeat(2 * KiB) }),
    });
    expect(options.statusCode).toBe(400);
    expect(await h.store.get(s.ct)).toEqual(s.before);
  });
});

describe('request shape, checked before any expensive work', () => {
  it('refuses more credentials per issuance than max_issuance_credentials', async () => {
    const h = await harness();
    const ok = await postSession(h, JSON.stringify({ '@context': ISSUANCE, credentials: Array.from({ length: 32 }, () => FULL_NAME) }));
    expect(ok.statusCode, ok.body).toBe(200);
    const res = await postSession(h, JSON.stringify({ '@context': ISSUANCE, credentials: Array.from({ length: 100 }, () => FULL_NAME) }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'INVALID_REQUEST', message: 'too many credentials to issue: 100 (at most 32)' });
    // The issue's 2,000 credentials do not even get that far.
    const huge = await postSession(h, JSON.stringify({ '@context': ISSUANCE, credentials: Array.from({ length: 2000 }, () => FULL_NAME) }));
    expect(huge.json()).toMatchObject({ error: 'INVALID_REQUEST', message: 'JSON holds more than 4096 values' });
  });

  it('refuses more disjunctions or attributes than allowed, the legacy form included', async () => {
    const h = await harness();
    expect((await postSession(h, JSON.stringify(disclosureOf(128)))).statusCode).toBe(200);
    expect((await postSession(h, JSON.stringify(disclosureOf(129)))).json()).toMatchObject({ message: 'too many disjunctions: 129 (at most 128)' });
    expect((await postSession(h, JSON.stringify(disclosureOf(2, 200)))).json()).toMatchObject({ message: 'too many attributes: 400 (at most 256)' });
    const legacy = { type: 'disclosing', content: Array.from({ length: 300 }, () => ({ label: 'x', attributes: ['irma-demo.MijnOverheid.fullName.firstname'] })) };
    expect((await postSession(h, JSON.stringify(legacy))).json()).toMatchObject({ message: 'too many disjunctions: 300 (at most 128)' });
    const extended = { request: disclosureOf(300) };
    expect((await postSession(h, JSON.stringify(extended))).json()).toMatchObject({ message: 'too many disjunctions: 300 (at most 128)' });
  });

  it('refuses 100,000 disjunctions (or as many as fit in the body limit) without blocking the event loop', async () => {
    for (const [disjunctions, limits, message] of [
      [100_000, {}, 'http: request body too large'],
      [20_000, {}, 'JSON holds more than 4096 values'],
      [20_000, { maxJsonValues: 0 }, 'too many disjunctions: 20000 (at most 128)'],
    ] as const) {
      const h = await harness({ limits });
      const body = JSON.stringify(disclosureOf(disjunctions));
      let res!: Awaited<ReturnType<typeof postSession>>;
      const blocked = await maxLoopDelay(async () => {
        res = await postSession(h, body);
      });
      expect(res.json()).toMatchObject({ status: 400, error: 'INVALID_REQUEST', message });
      // 100,000 disjunctions blocked it 2.5 s before.
      console.log(`${disjunctions} disjunctions (${(body.length / 1024).toFixed(0)} KiB) refused: ${message}; event loop blocked at most ${blocked.toFixed(0)} ms`);
      expect(blocked).toBeLessThan(250);
    }
  });

  it('refuses a body of 80,000 members nobody reads, cheaply', async () => {
    const h = await harness();
    const body: Record<string, unknown> = { ...DISCLOSURE };
    for (let i = 0; i < 80_000; i++) body[`k${i}`] = 1;
    let res!: Awaited<ReturnType<typeof postSession>>;
    const blocked = await maxLoopDelay(async () => {
      res = await postSession(h, JSON.stringify(body));
    });
    expect(res.json()).toMatchObject({ status: 400, error: 'INVALID_REQUEST', message: 'JSON holds more than 4096 values' });
    console.log(`80,000 ignored members refused; event loop blocked at most ${blocked.toFixed(0)} ms`);
    expect(blocked).toBeLessThan(250);
  });

  it('checks the shape of a signed (JWT) request too', async () => {
    const key = Buffer.alloc(32, 7);
    const h = await harness({ noAuth: false, requestors: { req: { authMethod: 'hmac', key: key.toString('base64') } } });
    const jwt = await new SignJWT({ sub: 'verification_request', sprequest: { request: disclosureOf(300) } })
      .setProtectedHeader({ alg: 'HS256', kid: 'req' })
      .setIssuedAt(Math.floor(h.clock.now / 1000))
      .sign(key);
    const res = await postSession(h, jwt, { 'content-type': 'text/plain' });
    expect(res.json()).toMatchObject({ error: 'INVALID_REQUEST', message: 'too many disjunctions: 300 (at most 128)' });
  });
});

describe('JSON nesting depth', () => {
  it('refuses 5,000-deep JSON at /proofs, at the top or in an ignored member, with a 400, the session untouched', async () => {
    const h = await harness();
    const s = await connectedSession(h);
    for (const body of [nested(5000), `{"proofs":[],"indices":[],"ignored":${nested(5000)}}`, `{"a":${nested(65)}}`]) {
      const res = await h.inject({
        method: 'POST',
        url: `/irma/session/${s.ct}/proofs`,
        headers: { ...APP_HEADERS, 'content-type': 'application/json' },
        payload: body,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ status: 400, error: 'MALFORMED_INPUT', message: 'JSON nested more than 64 levels deep' });
    }
    expect(await h.store.get(s.ct)).toEqual(s.before);
    expect(h.checker.calls).toHaveLength(0);
  });

  it('refuses deep JSON at POST /session and inside a JWT, but not brackets inside strings', async () => {
    const key = Buffer.alloc(32, 9);
    const h = await harness({ noAuth: false, requestors: { req: { authMethod: 'hmac', key: key.toString('base64') }, tok: { authMethod: 'token', key: 'secret-token' } } });
    const json = { ...DISCLOSURE, extra: JSON.parse(nested(100)) };
    const res = await postSession(h, JSON.stringify(json), { 'content-type': 'application/json', authorization: 'secret-token' });
    expect(res.json()).toMatchObject({ status: 400, error: 'INVALID_REQUEST', message: 'JSON nested more than 64 levels deep' });
    // jose cannot even build such claims: the JWT is put together by hand.
    const part = (text: string) => Buffer.from(text).toString('base64url');
    const signingInput = `${part('{"alg":"HS256","kid":"req"}')}.${part(
      `{"sub":"verification_request","iat":${Math.floor(h.clock.now / 1000)},"sprequest":{"request":${JSON.stringify(DISCLOSURE)}},"deep":${nested(5000)}}`,
    )}`;
    const jwt = `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
    expect((await postSession(h, jwt, { 'content-type': 'text/plain' })).json()).toMatchObject({ error: 'INVALID_REQUEST', message: 'JSON nested more than 64 levels deep' });
    const brackets = { ...signatureRequest(nested(5000)) };
    const ok = await postSession(h, JSON.stringify(brackets), { 'content-type': 'application/json', authorization: 'secret-token' });
    expect(ok.statusCode, ok.body).toBe(200);
  });
});

describe('stored bytes per session', () => {
  it('refuses to create a session larger than max_session_size', async () => {
    const h = await harness({ limits: { maxSessionSize: 64 * KiB } });
    const res = await postSession(h, JSON.stringify(signatureRequest('x'.repeat(40 * KiB))));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'INVALID_REQUEST', message: expect.stringMatching(/exceeds max_session_size \(65536\)/) });
  });

  it('refuses a POST that would grow the session past it, leaving the session as it was', async () => {
    const h = await harness({ limits: { maxSessionSize: 64 * KiB } });
    const s = await connectedSession(h);
    // The scripted checker puts a 70 KiB value into the result: more than the session had.
    h.checker.next = { proofStatus: 'VALID', disclosed: [[{ rawvalue: 'x'.repeat(70 * KiB) }]] } as never;
    const res = await h.inject({
      method: 'POST',
      url: `/irma/session/${s.ct}/proofs`,
      headers: { ...APP_HEADERS, 'content-type': 'application/json' },
      payload: JSON.stringify({ proofs: [], indices: [[]] }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'INVALID_REQUEST', message: expect.stringMatching(/max_session_size/) });
    const after = await h.store.get(s.ct);
    expect(after?.status).toBe('CONNECTED');
    expect(after?.outcome).toEqual(s.before?.outcome);
  });
});

/** A GET on a live server: status and body. */
function get(base: string, path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers, localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens an event stream; resolves with its status once the head arrived. */
function openStream(base: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: Promise<string>; close(): void }>((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      const ended = new Promise<string>((done) => res.on('close', () => done(body)));
      resolve({ status: res.statusCode ?? 0, body: ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function live(patch: Partial<ServerOptions>): Promise<LiveServer> {
  const server = await startLive(patch);
  open.push(server.running);
  return server;
}

async function liveSession(server: LiveServer): Promise<{ token: string; ct: string }> {
  const res = await fetch(`${server.base}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(DISCLOSURE) });
  const pkg = (await res.json()) as { token: string; sessionPtr: { u: string } };
  return { token: pkg.token, ct: pkg.sessionPtr.u.split('/').pop()! };
}

describe('open event streams', () => {
  it('caps streams per session and in all with 429 TOO_MANY_REQUESTS, and frees a slot when one closes', async () => {
    const server = await live({ sse: true, limits: { maxSseListeners: 3, maxSseListenersPerSession: 2 } });
    const a = await liveSession(server);
    const b = await liveSession(server);
    const s1 = await openStream(server.base, `/session/${a.token}/statusevents`);
    const s2 = await openStream(server.base, `/irma/session/${a.ct}/statusevents`);
    expect([s1.status, s2.status]).toEqual([200, 200]);
    const third = await get(server.base, `/session/${a.token}/statusevents`);
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({ error: 'TOO_MANY_REQUESTS', message: 'too many open event streams on this session' });
    const s3 = await openStream(server.base, `/session/${b.token}/statusevents`);
    expect(s3.status).toBe(200);
    const fourth = await get(server.base, `/irma/session/${b.ct}/statusevents`);
    expect(JSON.parse(fourth.body)).toMatchObject({ error: 'TOO_MANY_REQUESTS', message: 'too many open event streams' });
    s3.close();
    await s3.body;
    for (let i = 0; i < 50; i++) {
      const again = await openStream(server.base, `/irma/session/${b.ct}/statusevents`);
      if (again.status === 200) {
        again.close();
        break;
      }
      again.close();
      await new Promise((r) => setTimeout(r, 20));
      if (i === 49) throw new Error('no slot freed');
    }
    s1.close();
    s2.close();
  });

  it('stay open past every read and idle timeout', async () => {
    const server = await live({ sse: true, limits: { readHeaderTimeout: 300, readTimeout: 300, idleTimeout: 300 } });
    const a = await liveSession(server);
    const stream = await openStream(server.base, `/session/${a.token}/statusevents`);
    expect(stream.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    const res = await fetch(`${server.base}/session/${a.token}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const body = await stream.body;
    expect(body).toContain('data: "CANCELLED"');
  });
});

describe('options', () => {
  it('refuses a negative limit and a header timeout above the request timeout', async () => {
    const { validateOptions, defaultOptions } = await import('../../src/server/options.js');
    const base = { ...defaultOptions(false), schemesPath: '/x' };
    expect(() => validateOptions({ ...base, limits: { maxJsonDepth: -1 } })).toThrow('max_json_depth must be a non-negative integer (was -1)');
    expect(() => validateOptions({ ...base, limits: { readTimeout: 0 } })).toThrow('read_timeout must be at least 1 ms');
    expect(() => validateOptions({ ...base, limits: { readHeaderTimeout: 5000 } })).toThrow(/read_header_timeout \(5000\) must not exceed read_timeout/);
  });
});
