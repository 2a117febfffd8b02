// create -> status -> connect -> proofs -> result, and cancel: the conformance items of spec §13
// decided by the server and the state machine.
import { afterEach, describe, expect, it } from 'vitest';
import type { DisclosureOutcome, VerificationInput } from '../../src/server/proof-port.js';
import { APP_HEADERS, connectApp, DISCLOSURE, makeHarness, ScriptedChecker, startSession, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

/** The app POSTs its proofs, as JSON, with its authorization. */
const postProofs = (ct: string, payload: string, headers: Record<string, string> = {}) =>
  h.inject({
    method: 'POST',
    url: `/irma/session/${ct}/proofs`,
    headers: { ...APP_HEADERS, 'content-type': 'application/json', ...headers },
    payload,
  });

describe('starting a session (§13.1–3, 8, 9)', () => {
  it('answers a session package with fresh, distinct tokens and no pairing hint', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    expect(s.token).toMatch(/^[a-zA-Z0-9]{20}$/);
    expect(s.ct).toMatch(/^[a-zA-Z0-9]{20}$/);
    expect(s.ct).not.toBe(s.token);
    expect(s.ct.slice(0, 4)).toBe(s.token.slice(0, 4));
    expect(s.pkg.sessionPtr).toEqual({ u: `http://irma.example.com:8088/irma/session/${s.ct}`, irmaqr: 'disclosing' });
    expect(s.pkg.frontendRequest).toEqual({
      authorization: s.frontendAuth,
      minProtocolVersion: '1.0',
      maxProtocolVersion: '1.1',
    });
    expect(s.frontendAuth).toMatch(/^[a-zA-Z0-9]{20}$/);
  });

  it('hints pairing for a required value, signatures and issuance', async () => {
    h = await makeHarness();
    const valued = await startSession(h, {
      '@context': 'https://irma.app/ld/request/disclosure/v2',
      disclose: [[[{ type: 'irma-demo.MijnOverheid.fullName.firstname', value: 'yes' }]]],
    });
    expect(valued.pkg.frontendRequest.pairingHint).toBe(true);
    const sig = await startSession(h, {
      '@context': 'https://irma.app/ld/request/signature/v2',
      message: 'hi',
      disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]],
    });
    expect(sig.pkg.sessionPtr.irmaqr).toBe('signing');
    expect(sig.pkg.frontendRequest.pairingHint).toBe(true);
    const iss = await startSession(h, {
      '@context': 'https://irma.app/ld/request/issuance/v2',
      credentials: [{ credential: 'irma-demo.MijnOverheid.fullName', attributes: { firstnames: 'A', firstname: 'A', familyname: 'B' } }],
    });
    expect(iss.pkg.sessionPtr.irmaqr).toBe('issuing');
    expect(iss.pkg.frontendRequest.pairingHint).toBe(true);
  });

  it('accepts the extended form and refuses other content types', async () => {
    h = await makeHarness();
    const ext = await startSession(h, { validity: 60, request: DISCLOSURE });
    expect(ext.pkg.sessionPtr.irmaqr).toBe('disclosing');
    const xml = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'text/xml' }, payload: '<x/>' });
    expect(xml.statusCode).toBe(400);
    expect(xml.json()).toMatchObject({ status: 400, error: 'INVALID_REQUEST', message: 'Unsupported Content-Type: text/xml' });
  });

  it('shows INITIALIZED and a minimal result for a fresh session', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const status = await h.inject({ method: 'GET', url: `/session/${s.token}/status` });
    expect(status.statusCode).toBe(200);
    expect(status.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(status.body).toBe('"INITIALIZED"');
    const result = await h.inject({ method: 'GET', url: `/session/${s.token}/result` });
    expect(result.json()).toEqual({ token: s.token, status: 'INITIALIZED', type: 'disclosing' });
  });

  it('rejects malformed and unknown tokens', async () => {
    h = await makeHarness();
    const bad = await h.inject({ method: 'GET', url: '/session/abc/status' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      status: 400,
      error: 'INVALID_REQUEST',
      description: 'Invalid HTTP request',
      message: 'string did not pass input validation for requestorToken',
    });
    const unknown = await h.inject({ method: 'GET', url: `/session/${'A'.repeat(20)}/status` });
    expect(unknown.json()).toEqual({ status: 400, error: 'SESSION_UNKNOWN', description: 'Unknown or expired session' });
    const app = await connectApp(h, 'short');
    expect(app.json().message).toBe('string did not pass input validation for clientToken');
    expect((await connectApp(h, 'B'.repeat(20))).json().error).toBe('SESSION_UNKNOWN');
  });

  it('rejects malformed JSON and bodies over 10 MiB', async () => {
    h = await makeHarness();
    const bad = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('INVALID_REQUEST');
    const huge = await h.inject({
      method: 'POST',
      url: '/session',
      headers: { 'content-type': 'application/json' },
      payload: `{"x":"${'a'.repeat(10 * 1024 * 1024)}"}`,
    });
    expect(huge.statusCode).toBeGreaterThanOrEqual(400);
    expect(huge.statusCode).toBeLessThan(500);
    expect(huge.json().error).toBe('INVALID_REQUEST');
  });
});

describe('the app connects (§13.10–13)', () => {
  it('needs the version headers and leaves the session alone without them', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const res = await connectApp(h, s.ct, { authorization: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('MALFORMED_INPUT');
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"INITIALIZED"');
  });

  it('gets the client request and the session becomes CONNECTED; a quick retry is replayed', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const res = await connectApp(h, s.ct);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body['@context']).toBe('https://irma.app/ld/request/client/v1');
    expect(body.protocolVersion).toBe('2.8');
    expect(body.options).toEqual({ '@context': 'https://irma.app/ld/options/v1', pairingMethod: 'none' });
    expect(body.request).toMatchObject({
      '@context': 'https://irma.app/ld/request/disclosure/v2',
      context: 'AQ==',
      protocolVersion: '2.8',
      devMode: true,
      disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]],
    });
    expect(Buffer.from(body.request.nonce, 'base64').length).toBeLessThanOrEqual(16);
    expect(Object.keys(body.request).slice(0, 5)).toEqual(['@context', 'context', 'nonce', 'protocolVersion', 'devMode']);
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"CONNECTED"');

    h.clock.now += 5_000;
    const again = await h.inject({ method: 'GET', url: `/irma/session/${s.ct}/`, headers: APP_HEADERS });
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(res.body);
    h.clock.now += 11_000;
    const late = await connectApp(h, s.ct);
    expect(late.statusCode).toBe(403);
    expect(late.json()).toMatchObject({ error: 'UNEXPECTED_REQUEST', message: 'Session already started' });
  });

  it('cancels on a protocol version mismatch and on a missing Authorization', async () => {
    h = await makeHarness();
    const a = await startSession(h);
    const old = await connectApp(h, a.ct, { 'x-irma-minprotocolversion': '2.4', 'x-irma-maxprotocolversion': '"2.7"', authorization: 'x' });
    expect(old.statusCode).toBe(400);
    expect(old.json().error).toBe('PROTOCOL_VERSION');
    const result = (await h.inject({ method: 'GET', url: `/session/${a.token}/result` })).json();
    expect(result.status).toBe('CANCELLED');
    expect(result.error).toMatchObject({ error: 'PROTOCOL_VERSION', status: 400 });

    const b = await startSession(h);
    const { authorization: _, ...noAuth } = APP_HEADERS;
    const res = await connectApp(h, b.ct, noAuth);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'UNAUTHORIZED', message: 'No authorization header provided' });
    expect((await h.inject({ method: 'GET', url: `/session/${b.token}/status` })).body).toBe('"CANCELLED"');
  });
});

describe('proofs and results (§13.17–19)', () => {
  it('refuses bad JSON without changing the session, and proofs before connecting', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const early = await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/proofs`, headers: APP_HEADERS, payload: '{}' });
    expect(early.statusCode).toBe(403);
    expect(early.json().error).toBe('UNEXPECTED_REQUEST');
    await connectApp(h, s.ct);
    const bad = await postProofs(s.ct, '{not json');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('MALFORMED_INPUT');
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"CONNECTED"');
    expect(h.checker.calls).toHaveLength(0);
  });

  it('refuses a proof that does not decode as a bad body, leaving the session CONNECTED', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const bodies = [
      { proofs: [{ A: 'not base64!', c: 'AQ==', e_response: 'AQ==', v_response: 'AQ==', a_responses: {}, a_disclosed: {} }] },
      { proofs: [{ c: 'AQ==' }] },
    ];
    for (const body of bodies) {
      const res = await postProofs(s.ct, JSON.stringify(body));
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toBe('MALFORMED_INPUT');
    }
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"CONNECTED"');
    expect(h.checker.calls).toHaveLength(0);
  });

  it('refuses more proofs than the session asks for before any cryptography', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const proof = { c: 'AQ==', A: 'AQ==', e_response: 'AQ==', v_response: 'AQ==', a_responses: {}, a_disclosed: {} };
    // One attribute is requested, so one credential (one proof) answers it.
    const flood = await postProofs(s.ct, JSON.stringify({ proofs: Array(1000).fill(proof), indices: [] }));
    expect(flood.statusCode).toBe(400);
    expect(flood.json().error).toBe('MALFORMED_INPUT');
    expect(h.checker.calls).toHaveLength(0);
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"CONNECTED"');
    expect((await postProofs(s.ct, JSON.stringify({ proofs: [proof], indices: [] }))).statusCode).toBe(200);
    expect(h.checker.calls).toHaveLength(1);
  });

  it('finishes with the verified outcome; an identical retry gets the same answer', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const connected = (await connectApp(h, s.ct)).json();
    const post = () => postProofs(s.ct, '{"proofs":[],"indices":[]}');
    const res = await post();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ proofStatus: 'VALID' });
    expect(h.checker.calls[0].request.nonce).toBe(connected.request.nonce);
    const result = (await h.inject({ method: 'GET', url: `/session/${s.token}/result` })).json();
    expect(result).toEqual({
      token: s.token,
      status: 'DONE',
      type: 'disclosing',
      proofStatus: 'VALID',
      disclosed: [[{ rawvalue: 'yes', value: { '': 'yes', en: 'yes', nl: 'yes' }, id: 'irma-demo.MijnOverheid.fullName.firstname', status: 'PRESENT', issuancetime: 1795046400 }]],
    });
    const again = await post();
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(res.body);
    expect(h.checker.calls).toHaveLength(1);
  });

  it('verifies once when the app retries while its first POST is still being verified', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class SlowChecker extends ScriptedChecker {
      override async disclosure(input: VerificationInput): Promise<DisclosureOutcome> {
        const out = super.disclosure(input);
        await gate;
        return out;
      }
    }
    h = await makeHarness({}, { checker: new SlowChecker() });
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const post = () => postProofs(s.ct, '{"proofs":[],"indices":[]}');
    const first = post();
    const retry = post();
    // Time for the retry to reach the checker too, if nothing holds it back.
    await new Promise((r) => setTimeout(r, 50));
    release();
    const [a, b] = await Promise.all([first, retry]);
    expect(a.statusCode).toBe(200);
    expect(b.body).toBe(a.body);
    expect(h.checker.calls).toHaveLength(1);
  });

  it('refuses proofs with another client authorization', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const res = await postProofs(s.ct, '{}', { authorization: 'someoneElse' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'UNAUTHORIZED', description: 'You are not authorized to access the session' });
  });

  it('cancels with the checker error', async () => {
    h = await makeHarness();
    const { ProtocolError } = await import('../../src/protocol/errors.js');
    h.checker.next = new ProtocolError('UNKNOWN_PUBLIC_KEY');
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const res = await postProofs(s.ct, '{}');
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('UNKNOWN_PUBLIC_KEY');
    const result = (await h.inject({ method: 'GET', url: `/session/${s.token}/result` })).json();
    expect(result).toMatchObject({ status: 'CANCELLED', error: { error: 'UNKNOWN_PUBLIC_KEY' } });
  });

  it('keeps the session when the crypto capacity fails, so the app can retry', async () => {
    h = await makeHarness();
    const { ProtocolError } = await import('../../src/protocol/errors.js');
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const post = () => postProofs(s.ct, '{}');
    for (const [type, status] of [['TOO_MANY_REQUESTS', 429], ['INTERNAL_ERROR', 500]] as const) {
      h.checker.next = new ProtocolError(type, 'capacity');
      const res = await post();
      expect(res.statusCode).toBe(status);
      expect(res.json().error).toBe(type);
      expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).json()).toBe('CONNECTED');
    }
    h.checker.next = { proofStatus: 'VALID', disclosed: [] };
    expect((await post()).json()).toEqual({ proofStatus: 'VALID' });
  });
});

describe('cancelling (§13.18)', () => {
  it('works for requestor and app, resets the result and is idempotent', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const del = await h.inject({ method: 'DELETE', url: `/session/${s.token}` });
    expect(del.statusCode).toBe(200);
    expect(del.body).toBe('');
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"CANCELLED"');
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/result` })).json()).toEqual({
      token: s.token,
      status: 'CANCELLED',
      type: 'disclosing',
    });
    expect((await h.inject({ method: 'DELETE', url: `/session/${s.token}` })).statusCode).toBe(200);
    const t = await startSession(h);
    expect((await h.inject({ method: 'DELETE', url: `/irma/session/${t.ct}` })).statusCode).toBe(200);
    expect((await h.inject({ method: 'GET', url: `/irma/session/${t.ct}/status` })).body).toBe('"CANCELLED"');
  });
});

describe('hostile requestor bodies', () => {
  it('get a 4xx RemoteError, never a 500', async () => {
    h = await makeHarness();
    const bodies = [
      'null',
      '[]',
      '"x"',
      '{"@context":5}',
      '{"request":[]}',
      '{"request":{"@context":"https://irma.app/ld/request/disclosure/v2","disclose":"x"}}',
      '{"@context":"https://irma.app/ld/request/disclosure/v2","disclose":[[[{"type":5}]]]}',
      '{"@context":"https://irma.app/ld/request/disclosure/v2","disclose":[]}',
      '{"@context":"https://irma.app/ld/request/issuance/v2","credentials":[{"credential":"a.b.c","attributes":{}}]}',
      '{"@context":"https://irma.app/ld/request/signature/v2","message":"","disclose":[[["irma-demo.MijnOverheid.fullName.firstname"]]]}',
      `{"@context":"https://irma.app/ld/request/disclosure/v2","disclose":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      '{"@context":"https://irma.app/ld/request/disclosure/v2","__proto__":{"polluted":true},"disclose":[[["x.y.z.w"]]]}',
    ];
    for (const payload of bodies) {
      const res = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload.slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, payload.slice(0, 80)).toBeLessThan(500);
      expect(res.json().error).toBe('INVALID_REQUEST');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('a successful POST of proofs', () => {
  it('logs no error after answering', async () => {
    const { pino } = await import('pino');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    h = await makeHarness({}, { logger });
    const s = await startSession(h);
    await connectApp(h, s.ct);
    const res = await h.inject({
      method: 'POST',
      url: `/irma/session/${s.ct}/proofs`,
      headers: { ...APP_HEADERS, 'content-type': 'application/json' },
      payload: '{"proofs":[],"indices":[]}',
    });
    expect(res.json()).toEqual({ proofStatus: 'VALID' });
    await new Promise((r) => setTimeout(r, 50));
    const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
  });
});
