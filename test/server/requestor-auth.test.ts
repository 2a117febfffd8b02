// Requestor authentication and permissions (spec §4; §13.4–7, 28, 29).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultOptions, validateOptions } from '../../src/server/options.js';
import { REFERENCE_JWTKEYS, REFERENCE_SCHEMES } from '../support/reference.js';
import { APP_HEADERS, connectApp, DISCLOSURE, makeHarness, START, startSession, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const HMAC_SECRET = randomBytes(32);
const RSA_PUBLIC = readFileSync(join(REFERENCE_JWTKEYS, 'requestor1.pem'), 'utf8');
const RSA_PRIVATE = createPrivateKey(readFileSync(join(REFERENCE_JWTKEYS, 'requestor1-sk.pem'), 'utf8'));

const authOptions = {
  noAuth: false,
  requestors: {
    tokenRequestor: { authMethod: 'token' as const, key: 'secret-token-1234' },
    hmacRequestor: { authMethod: 'hmac' as const, key: HMAC_SECRET.toString('base64url') },
    requestor1: { authMethod: 'publickey' as const, key: RSA_PUBLIC, issuePerms: ['irma-demo.MijnOverheid.*'] },
    limited: { authMethod: 'token' as const, key: 'limited-token', hostPerms: ['*.example.org'] },
  },
  disclosePerms: ['irma-demo.MijnOverheid.fullName.*'],
  issuePerms: [],
};

function jwt(claims: Record<string, unknown>, alg: 'HS256' | 'RS256', header: Record<string, unknown> = {}) {
  const key = alg === 'HS256' ? HMAC_SECRET : RSA_PRIVATE;
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key);
}
const postJwt = (token: string) =>
  h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'text/plain' }, payload: token });
const iat = () => Math.floor(h.clock.now / 1000);

describe('token authentication (§13.4)', () => {
  it('accepts the raw key and refuses wrong keys, Bearer, and a missing header', async () => {
    h = await makeHarness(authOptions);
    const ok = await startSession(h, DISCLOSURE, { authorization: 'secret-token-1234' });
    expect(ok.token).toMatch(/^[a-zA-Z0-9]{20}$/);
    for (const authorization of ['wrong', 'Bearer secret-token-1234']) {
      const res = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json', authorization }, payload: JSON.stringify(DISCLOSURE) });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('UNAUTHORIZED');
    }
    const none = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(DISCLOSURE) });
    expect(none.statusCode).toBe(400);
    expect(none.json().message).toBe('request could not be authenticated');
  });

  it('with no_auth refuses JWTs and Authorization headers', async () => {
    h = await makeHarness();
    const res = await postJwt(await jwt({ iss: 'x', sub: 'verification_request', iat: iat(), sprequest: { request: DISCLOSURE } }, 'HS256'));
    expect(res.json().message).toBe('request could not be authenticated');
    const hdr = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json', authorization: 'x' }, payload: JSON.stringify(DISCLOSURE) });
    expect(hdr.statusCode).toBe(400);
  });
});

describe('JWT authentication (§13.5)', () => {
  it('accepts a fresh HS256 request and refuses stale, future and bare ones', async () => {
    h = await makeHarness(authOptions);
    const claims = { iss: 'hmacRequestor', sub: 'verification_request', sprequest: { request: DISCLOSURE } };
    expect((await postJwt(await jwt({ ...claims, iat: iat() }, 'HS256'))).statusCode).toBe(200);
    const stale = await postJwt(await jwt({ ...claims, iat: iat() - 301 }, 'HS256'));
    expect(stale.statusCode).toBe(403);
    expect(stale.json()).toMatchObject({ error: 'UNAUTHORIZED', message: 'jwt too old' });
    expect((await postJwt(await jwt({ ...claims, iat: iat() + 60 }, 'HS256'))).statusCode).toBe(400);
    const bare = await postJwt(await jwt({ ...claims, iat: iat(), sprequest: DISCLOSURE }, 'HS256'));
    expect(bare.statusCode).toBe(400);
    expect(bare.json().message).toMatch(/^Invalid JWT body: /);
    const wrongSub = await postJwt(await jwt({ ...claims, iat: iat(), sub: 'nonsense' }, 'HS256'));
    expect(wrongSub.json().message).toBe('Invalid session type');
    const forged = await new SignJWT({ ...claims, iat: iat() }).setProtectedHeader({ alg: 'HS256' }).sign(randomBytes(32));
    expect((await postJwt(forged)).statusCode).toBe(400);
  });

  it('verifies RS256 with the reference requestor key and lets kid override iss', async () => {
    h = await makeHarness(authOptions);
    const claims = { iss: 'nobody', sub: 'verification_request', iat: iat(), sprequest: { request: DISCLOSURE } };
    const res = await postJwt(await jwt(claims, 'RS256', { kid: 'requestor1' }));
    expect(res.statusCode).toBe(200);
    const unknown = await postJwt(await jwt(claims, 'RS256'));
    expect(unknown.json().message).toBe('Unknown requestor: nobody');
  });

  it('accepts an hmac key read from a key_file that ends in a newline, as the reference does', async () => {
    const keyFile = `${HMAC_SECRET.toString('base64')}\n`;
    const options = validateOptions({
      ...defaultOptions(false),
      schemesPath: REFERENCE_SCHEMES,
      noAuth: false,
      requestors: { hmacRequestor: { authMethod: 'hmac', key: keyFile } },
    });
    h = await makeHarness({ noAuth: false, requestors: options.requestors });
    const res = await postJwt(await jwt({ iss: 'hmacRequestor', sub: 'verification_request', iat: iat(), sprequest: { request: DISCLOSURE } }, 'HS256'));
    expect(res.statusCode).toBe(200);
  });
});

describe('permissions (§13.6, 28)', () => {
  it('refuses unpermitted attributes and issuance without issue permissions', async () => {
    h = await makeHarness(authOptions);
    const res = await h.inject({
      method: 'POST',
      url: '/session',
      headers: { 'content-type': 'application/json', authorization: 'secret-token-1234' },
      payload: JSON.stringify({ ...DISCLOSURE, disclose: [[['irma-demo.stemmen.stempas.election']]] }),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'UNAUTHORIZED', message: 'irma-demo.stemmen.stempas.election' });
    const issuance = {
      '@context': 'https://irma.app/ld/request/issuance/v2',
      credentials: [{ credential: 'irma-demo.MijnOverheid.fullName', attributes: { firstnames: 'A', firstname: 'A', familyname: 'B' } }],
    };
    const denied = await h.inject({
      method: 'POST',
      url: '/session',
      headers: { 'content-type': 'application/json', authorization: 'secret-token-1234' },
      payload: JSON.stringify(issuance),
    });
    expect(denied.json().message).toBe('No issuer permissions configured');
    const allowed = await postJwt(await jwt({ sub: 'issue_request', iat: iat(), iprequest: { request: issuance } }, 'RS256', { kid: 'requestor1' }));
    expect(allowed.statusCode).toBe(200);
  });

  it('binds sessions to a permitted host and refuses others', async () => {
    h = await makeHarness(authOptions);
    const asToken = (authorization: string, host?: string) =>
      h.inject({
        method: 'POST',
        url: '/session',
        headers: { 'content-type': 'application/json', authorization },
        payload: JSON.stringify({ ...DISCLOSURE, ...(host ? { host } : {}) }),
      });
    const foreign = await asToken('secret-token-1234', 'evil.example.net');
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().message).toBe('requestor not allowed to use the requested host');
    expect((await asToken('limited-token')).statusCode).toBe(403);
    const ok = await asToken('limited-token', 'irma.example.org');
    expect(ok.statusCode).toBe(200);
    const { sessionPtr } = ok.json();
    expect(sessionPtr.u).toMatch(/^http:\/\/irma\.example\.org\/irma\/session\//);
    const ct = sessionPtr.u.split('/').pop();
    const mismatch = await connectApp(h, ct, { ...APP_HEADERS, host: 'irma.example.com:8088' });
    expect(mismatch.statusCode).toBe(403);
    expect(mismatch.json()).toMatchObject({ error: 'UNAUTHORIZED', message: 'Host mismatch' });
    expect((await connectApp(h, ct, { ...APP_HEADERS, host: 'irma.example.org' })).statusCode).toBe(200);
  });
});

describe('callbacks and return URLs (§13.7, 29)', () => {
  it('refuses callbackUrl without a JWT key unless unsigned callbacks are allowed', async () => {
    h = await makeHarness();
    const body = { callbackUrl: 'http://127.0.0.1:1/cb', request: DISCLOSURE };
    const res = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(res.statusCode).toBe(501);
    expect(res.json()).toMatchObject({
      error: 'UNSUPPORTED',
      message: 'callbackUrl provided but no JWT private key is installed: either install JWT or enable allow_unsigned_callbacks in configuration',
    });
    await h.close();
    h = await makeHarness({ allowUnsignedCallbacks: true });
    expect((await startSession(h, body)).token).toBeTruthy();
  });

  it('refuses a nextSession without URL', async () => {
    h = await makeHarness({ allowUnsignedCallbacks: true });
    const res = await h.inject({
      method: 'POST',
      url: '/session',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ nextSession: { url: '' }, request: DISCLOSURE }),
    });
    expect(res.json()).toMatchObject({ status: 400, message: 'nextSession provided with empty URL' });
  });

  it('augments the client return URL only when the server allows it', async () => {
    const request = { ...DISCLOSURE, clientReturnUrl: 'https://example.com/done?x=1', augmentReturnUrl: true };
    h = await makeHarness();
    const refused = await h.inject({ method: 'POST', url: '/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(request) });
    expect(refused.json().message).toBe('augmenting client return url not enabled in server configuration');
    await h.close();
    h = await makeHarness({ augmentClientReturnUrl: true });
    const s = await startSession(h, request);
    const body = (await connectApp(h, s.ct)).json();
    expect(body.request.clientReturnUrl).toBe(`https://example.com/done?x=1&token=${s.token}`);
  });
});

void START;
