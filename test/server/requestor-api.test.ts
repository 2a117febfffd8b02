// Result JWTs, the public key, static sessions, CORS, unknown routes, health
// (spec §3.4, §3.6, §9.4; §13.21, 22, 27, 30, 31).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importSPKI, jwtVerify, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { REFERENCE_JWTKEYS } from '../support/reference.js';
import { APP_HEADERS, connectApp, DISCLOSURE, makeHarness, startSession, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const JWT_KEY = readFileSync(join(REFERENCE_JWTKEYS, 'sk.pem'), 'utf8');

async function finish(s: { ct: string }) {
  await connectApp(h, s.ct);
  await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/proofs`, headers: APP_HEADERS, payload: '{}' });
}

describe('result JWTs (§13.21, 22)', () => {
  it('signs /result-jwt with the key /publickey shows', async () => {
    h = await makeHarness({ jwtPrivateKey: JWT_KEY });
    const s = await startSession(h);
    await finish(s);
    const pem = await h.inject({ method: 'GET', url: '/publickey' });
    expect(pem.body).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const jwt = await h.inject({ method: 'GET', url: `/session/${s.token}/result-jwt` });
    expect(jwt.headers['content-type']).toMatch(/^text\/plain/);
    expect(decodeProtectedHeader(jwt.body)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(jwt.body, await importSPKI(pem.body, 'RS256'), { currentDate: new Date(h.clock.now) });
    expect(payload).toMatchObject({ sub: 'disclosing_result', iss: 'irmaserver', token: s.token, status: 'DONE', proofStatus: 'VALID' });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(payload.iat).toBe(Math.floor(h.clock.now / 1000));
  });

  it('signs /getproof with the proof status and an attribute map', async () => {
    h = await makeHarness({ jwtPrivateKey: JWT_KEY });
    const s = await startSession(h);
    await finish(s);
    const jwt = (await h.inject({ method: 'GET', url: `/session/${s.token}/getproof` })).body;
    const pem = (await h.inject({ method: 'GET', url: '/publickey' })).body;
    const { payload } = await jwtVerify(jwt, await importSPKI(pem, 'RS256'), { currentDate: new Date(h.clock.now) });
    expect(payload).toMatchObject({
      sub: 'disclosure_result',
      status: 'VALID',
      attributes: { 'irma-demo.MijnOverheid.fullName.firstname': 'yes' },
    });
  });

  it('answers 500 EXCEPTION / 501 without a key', async () => {
    h = await makeHarness();
    const res = await h.inject({ method: 'GET', url: `/session/${'x'.repeat(20)}/result-jwt` });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ error: 'EXCEPTION', message: 'JWT signing not supported' });
    expect((await h.inject({ method: 'GET', url: '/publickey' })).statusCode).toBe(501);
  });
});

describe('static sessions (§13.27)', () => {
  it('starts a fresh session per POST and refuses unknown names', async () => {
    h = await makeHarness({
      allowUnsignedCallbacks: true,
      staticSessions: { hello: { callbackUrl: 'http://127.0.0.1:9/cb', request: DISCLOSURE } },
    });
    const a = await h.inject({ method: 'POST', url: '/irma/session/hello', payload: '{}' });
    expect(a.statusCode).toBe(200);
    const qr = a.json();
    expect(qr.irmaqr).toBe('disclosing');
    expect(qr.u).toMatch(/^http:\/\/irma\.example\.com:8088\/irma\/session\/[a-zA-Z0-9]{20}$/);
    const b = (await h.inject({ method: 'POST', url: '/irma/session/hello', payload: '{}' })).json();
    expect(b.u).not.toBe(qr.u);
    expect((await connectApp(h, qr.u.split('/').pop())).statusCode).toBe(200);
    const unknown = await h.inject({ method: 'POST', url: '/irma/session/nothere', payload: '{}' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toBe('unknown static session');
  });
});

describe('HTTP edges (§13.30, 31)', () => {
  it('answers preflights before routing and marks responses for any origin', async () => {
    h = await makeHarness();
    const pre = await h.inject({
      method: 'OPTIONS',
      url: '/session',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.statusCode).toBe(200);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-methods']).toBe('POST');
    expect(pre.headers['access-control-allow-headers']).toBe('content-type');
    const s = await startSession(h, DISCLOSURE, { origin: 'https://shop.example' });
    const status = await h.inject({ method: 'GET', url: `/irma/session/${s.ct}/status`, headers: { origin: 'https://shop.example' } });
    expect(status.headers['access-control-allow-origin']).toBe('*');
    const irmaHeader = await h.inject({
      method: 'OPTIONS',
      url: `/irma/session/${s.ct}`,
      headers: { origin: 'x', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-irma-maxprotocolversion' },
    });
    expect(irmaHeader.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers 404 and 405 in the RemoteError shape under /irma, plain text elsewhere', async () => {
    h = await makeHarness();
    const nf = await h.inject({ method: 'GET', url: '/irma/nothing' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toEqual({ status: 404, error: 'INVALID_REQUEST' });
    const na = await h.inject({ method: 'PUT', url: `/irma/session/${'a'.repeat(20)}/proofs` });
    expect(na.statusCode).toBe(405);
    expect(na.json()).toEqual({ status: 405, error: 'INVALID_REQUEST' });
    const plain = await h.inject({ method: 'GET', url: '/nothing' });
    expect(plain.statusCode).toBe(404);
    expect(plain.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('reports health through the store and serves under an API prefix', async () => {
    h = await makeHarness({ apiPrefix: '/api/' });
    const ok = await h.inject({ method: 'GET', url: '/api/health' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('OK');
    expect((await h.inject({ method: 'GET', url: '/health' })).statusCode).toBe(404);
    await h.store.close();
    const down = await h.inject({ method: 'GET', url: '/api/health' });
    expect(down.statusCode).toBe(503);
    expect(down.json().error).toBe('INTERNAL_ERROR');
  });

  it('refuses statusevents when SSE is off', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    expect((await h.inject({ method: 'GET', url: `/irma/session/${s.ct}/statusevents` })).json().error).toBe('SSE_DISABLED');
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/statusevents` })).json().error).toBe('SSE_DISABLED');
    expect((await h.inject({ method: 'GET', url: `/session/${'Z'.repeat(20)}/statusevents` })).statusCode).toBe(501);
  });
});

describe('logging', () => {
  it('never writes session tokens or request contents, even at debug level', async () => {
    const { pino } = await import('pino');
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const { createServer } = await import('../../src/server/index.js');
    const { defaultOptions } = await import('../../src/server/options.js');
    const { referenceSchemes, ScriptedChecker } = await import('./harness.js');
    const server = await createServer(
      { ...defaultOptions(false), url: 'http://irma.example.com', jwtPrivateKey: JWT_KEY },
      { schemes: await referenceSchemes(), checker: new ScriptedChecker(), logger },
    );
    try {
      const pkg = (await server.main.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(DISCLOSURE) })).json();
      const ct = pkg.sessionPtr.u.split('/').pop();
      await server.main.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: APP_HEADERS });
      await server.main.inject({ method: 'POST', url: `/irma/session/${ct}/proofs`, headers: APP_HEADERS, payload: '{}' });
      await server.main.inject({ method: 'GET', url: `/session/${pkg.token}/result-jwt` });
      await server.main.inject({ method: 'GET', url: `/session/${pkg.token}/statusevents` });
      const log = lines.join('');
      expect(lines.length).toBeGreaterThan(3);
      for (const secret of [pkg.token, ct, pkg.frontendRequest.authorization, APP_HEADERS.authorization, 'fullName.firstname']) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await server.close();
    }
  });
});
