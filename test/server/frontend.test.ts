// Frontend endpoints and pairing (spec §5.6, §9.2; §13.14–16).
import { afterEach, describe, expect, it } from 'vitest';
import { APP_HEADERS, connectApp, makeHarness, startSession, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const OPTIONS_PIN = JSON.stringify({ '@context': 'https://irma.app/ld/request/frontendoptions/v1', pairingMethod: 'pin' });

describe('frontend authorization (§13.15)', () => {
  it('refuses missing and wrong Authorization and shows a status object', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const url = `/irma/session/${s.ct}/frontend/status`;
    for (const headers of [{}, { authorization: 'wrong' }]) {
      const res = await h.inject({ method: 'GET', url, headers });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ status: 403, error: 'UNAUTHORIZED', description: 'You are not authorized to access the session' });
    }
    const ok = await h.inject({ method: 'GET', url, headers: { authorization: s.frontendAuth } });
    expect(ok.json()).toEqual({ status: 'INITIALIZED' });
  });
});

describe('pairing (§13.14, 16)', () => {
  it('runs the desktop pairing flow', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const fe = { authorization: s.frontendAuth, 'content-type': 'application/json' };
    const opts = await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/frontend/options`, headers: fe, payload: OPTIONS_PIN });
    expect(opts.statusCode).toBe(200);
    const body = opts.json();
    expect(body).toMatchObject({ '@context': 'https://irma.app/ld/options/v1', pairingMethod: 'pin' });
    expect(body.pairingCode).toMatch(/^\d{4}$/);

    const app = (await connectApp(h, s.ct)).json();
    expect(app.request).toBeUndefined();
    expect(app.options).toEqual(body);
    expect((await h.inject({ method: 'GET', url: `/irma/session/${s.ct}/status` })).body).toBe('"PAIRING"');

    const early = await h.inject({ method: 'GET', url: `/irma/session/${s.ct}/request`, headers: APP_HEADERS });
    expect(early.statusCode).toBe(403);
    expect(early.json().error).toBe('PAIRING_REQUIRED');
    const again = await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/frontend/options`, headers: fe, payload: OPTIONS_PIN });
    expect(again.statusCode).toBe(403);
    expect(again.json().message).toBe('Frontend options can only be updated when session is in initialized state');

    const done = await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/frontend/pairingcompleted`, headers: { authorization: s.frontendAuth } });
    expect(done.statusCode).toBe(204);
    expect(done.body).toBe('');
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"CONNECTED"');

    const req = await h.inject({ method: 'GET', url: `/irma/session/${s.ct}/request`, headers: APP_HEADERS });
    expect(req.statusCode).toBe(200);
    expect(req.json()).toMatchObject({ '@context': 'https://irma.app/ld/request/disclosure/v2', protocolVersion: '2.8' });
    const other = await h.inject({ method: 'GET', url: `/irma/session/${s.ct}/request`, headers: { ...APP_HEADERS, authorization: 'other' } });
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toBe('UNAUTHORIZED');
  });

  it('refuses pairingcompleted outside PAIRING, bad options bodies and unknown methods', async () => {
    h = await makeHarness();
    const s = await startSession(h);
    const auth = { authorization: s.frontendAuth };
    const res = await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/frontend/pairingcompleted`, headers: auth });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'UNEXPECTED_REQUEST', message: 'Pairing was not enabled' });
    const bad = await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/frontend/options`, headers: auth, payload: '{"@context":"x"}' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('MALFORMED_INPUT');
    const unknown = await h.inject({
      method: 'POST',
      url: `/irma/session/${s.ct}/frontend/options`,
      headers: auth,
      payload: JSON.stringify({ '@context': 'https://irma.app/ld/request/frontendoptions/v1', pairingMethod: 'sms' }),
    });
    expect(unknown.json().message).toBe('Pairing method unknown');
  });
});
