// Replays the app's side of eleven sessions recorded between the reference server and client:
// a session created with the recorded request and nonce must answer the recorded client
// messages as the reference did, with the real ProofChecker (spec §5; vectors README).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeB64 } from '../../src/idemix/bigint.js';
import { parseRequestorRequest } from '../../src/protocol/request-body.js';
import { createProofChecker } from '../../src/server/proof-checker.js';
import { startSession as startInternal } from '../../src/server/session-factory.js';
import { REFERENCE_VECTORS } from '../support/reference.js';
import { makeHarness, type Harness } from './harness.js';
import { startTimestampStandIn, testSchemes, type TestSchemes, type TimestampStandIn } from './proof-checker-support.js';

interface Recorded {
  label: string;
  requestorRequest: unknown;
  sessionPackage: { sessionPtr: { irmaqr: string } };
  client: Array<{ method: string; path: string; status: number; requestHeaders: Record<string, string>; requestBody?: unknown; responseBody: unknown }>;
  requestorResult: Record<string, unknown>;
}
const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as {
  recordedAtUnix: number;
  timestampServer: { ed25519PublicKey: string };
  sessions: Recorded[];
};

let h: Harness;
let tsa: TimestampStandIn;
let fx: TestSchemes;
beforeAll(async () => {
  h = await makeHarness({ url: 'http://127.0.0.1:48700' });
  // The recorded signature's timestamp must be trusted by the scheme's timestamp server: a local
  // stand-in vouches for the recorded key, and the schemes are pointed at it.
  tsa = await startTimestampStandIn();
  const tsaKey = Buffer.from(vectors.timestampServer.ed25519PublicKey, 'base64').toString('hex');
  tsa.answers.set(tsaKey, { Trusted: true, Expires: Math.floor(Date.now() / 1000) + 3600 });
  fx = await testSchemes(tsa.url);
  // The real checker instead of the scripted one.
  h.server.ctx.checker = createProofChecker(fx.schemes);
  h.clock.now = vectors.recordedAtUnix * 1000;
});
afterAll(async () => {
  await h.close();
  await tsa.close();
  await fx.remove();
});

/** Starts the recorded session with the nonce the recorded proofs are bound to. */
async function replayable(rec: Recorded) {
  const connect = rec.client[0];
  const nonce = decodeB64((connect.responseBody as { request: { nonce: string } }).request.nonce);
  const started = await startInternal(h.server.ctx, parseRequestorRequest(rec.requestorRequest), { requestor: '', nonce });
  return started.package;
}

/**
 * Credential validity defaults to "now + 6 months" at creation, seconds apart between runs; and
 * we send randomblindIDs (spec §7.3), which the recorded v0.13.3 server did not.
 */
function comparable(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body), (key, value) => (key === 'validity' || key === 'randomblindIDs' ? undefined : value));
}

/**
 * The reference stores a signature's timestamp with the scheme's timestamp server URL in place of
 * the one the client named; ours is the stand-in, so the expected result names it too.
 */
function withTimestampServer(result: Record<string, unknown>, url: string): Record<string, unknown> {
  const signature = result.signature as { timestamp?: { ServerUrl: string } | null } | undefined;
  if (!signature?.timestamp) return result;
  return { ...result, signature: { ...signature, timestamp: { ...signature.timestamp, ServerUrl: url } } };
}

describe('recorded sessions', () => {
  for (const rec of vectors.sessions) {
    it(`${rec.label}: answers the recorded app messages as the reference did`, async () => {
      const pkg = await replayable(rec);
      expect(pkg.sessionPtr.irmaqr).toBe(rec.sessionPackage.sessionPtr.irmaqr);
      const ct = pkg.sessionPtr.u.split('/').pop()!;
      for (const msg of rec.client) {
        const res = await h.inject({
          method: msg.method as 'GET' | 'POST',
          url: msg.path.replace('{clientToken}', ct),
          headers: { ...msg.requestHeaders, ...(msg.requestBody !== undefined ? { 'content-type': 'application/json' } : {}) },
          payload: msg.requestBody === undefined ? undefined : JSON.stringify(msg.requestBody),
        });
        expect(res.statusCode, res.body).toBe(msg.status);
        const body = res.json();
        if (msg.method === 'GET') {
          expect(comparable(body)).toEqual(comparable(msg.responseBody));
        } else if (rec.sessionPackage.sessionPtr.irmaqr === 'issuing') {
          const recorded = msg.responseBody as { proofStatus: string; sigs: unknown[] };
          expect(body.proofStatus).toBe(recorded.proofStatus);
          expect(body.sigs).toHaveLength(recorded.sigs.length);
          // Fresh signatures: random e and v'', so they differ from the recorded ones.
          expect(body.sigs[0].signature.A).not.toBe((recorded.sigs[0] as { signature: { A: string } }).signature.A);
        } else {
          expect(body).toEqual(msg.responseBody);
        }
      }
      const result = (await h.inject({ method: 'GET', url: `/session/${pkg.token}/result` })).json();
      expect(result).toEqual({ ...withTimestampServer(rec.requestorResult, tsa.url), token: pkg.token });
    });
  }

  it('rejects a recorded disclosure against another session nonce', async () => {
    const rec = vectors.sessions.find((s) => s.label === 'disclose-firstname')!;
    const pkg = (await startInternal(h.server.ctx, parseRequestorRequest(rec.requestorRequest), { requestor: '' })).package;
    const ct = pkg.sessionPtr.u.split('/').pop()!;
    const [connect, proofs] = rec.client;
    await h.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: connect.requestHeaders });
    const res = await h.inject({
      method: 'POST',
      url: `/irma/session/${ct}/proofs`,
      headers: { ...proofs.requestHeaders, 'content-type': 'application/json' },
      payload: JSON.stringify(proofs.requestBody),
    });
    expect(res.json()).toEqual({ proofStatus: 'INVALID' });
    expect((await h.inject({ method: 'GET', url: `/session/${pkg.token}/result` })).json()).toEqual({
      token: pkg.token,
      status: 'DONE',
      type: 'disclosing',
      proofStatus: 'INVALID',
    });
  });

  /** A fresh session (fresh nonce) for a recorded request; the app connects with its recorded headers. */
  async function freshConnected(label: string) {
    const rec = vectors.sessions.find((s) => s.label === label)!;
    const pkg = (await startInternal(h.server.ctx, parseRequestorRequest(rec.requestorRequest), { requestor: '' })).package;
    const ct = pkg.sessionPtr.u.split('/').pop()!;
    const [connect, post] = rec.client;
    await h.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: connect.requestHeaders });
    const send = (body: unknown) =>
      h.inject({
        method: 'POST',
        url: post.path.replace('{clientToken}', ct),
        headers: { ...post.requestHeaders, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    return { rec, pkg, post, send };
  }

  it('answers UNMATCHED_REQUEST for a recorded signature on another nonce', async () => {
    const { pkg, post, send } = await freshConnected('sign-familyname');
    expect((await send(post.requestBody)).json()).toEqual({ proofStatus: 'UNMATCHED_REQUEST' });
    expect((await h.inject({ method: 'GET', url: `/session/${pkg.token}/result` })).json()).toMatchObject({ status: 'DONE', proofStatus: 'UNMATCHED_REQUEST' });
  });

  it('cancels issuance with INVALID_PROOFS for recorded commitments on another nonce', async () => {
    const { pkg, post, send } = await freshConnected('issue-fullName');
    const res = await send(post.requestBody);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('INVALID_PROOFS');
    expect((await h.inject({ method: 'GET', url: `/session/${pkg.token}/result` })).json()).toMatchObject({
      status: 'CANCELLED',
      error: { error: 'INVALID_PROOFS' },
    });
  });

  it('finds a changed proof field INVALID on the recorded nonce', async () => {
    const rec = vectors.sessions.find((s) => s.label === 'disclose-two-attrs')!;
    const pkg = await replayable(rec);
    const ct = pkg.sessionPtr.u.split('/').pop()!;
    const [connect, post] = rec.client;
    await h.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: connect.requestHeaders });
    const body = structuredClone(post.requestBody) as { proofs: Array<{ v_response: string }> };
    const v = Buffer.from(body.proofs[0].v_response, 'base64');
    v[v.length - 1] ^= 1;
    body.proofs[0].v_response = v.toString('base64');
    const res = await h.inject({
      method: 'POST',
      url: `/irma/session/${ct}/proofs`,
      headers: { ...post.requestHeaders, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    expect(res.json()).toEqual({ proofStatus: 'INVALID' });
  });

  it('answers hostile proof bodies with a typed error, never a 500', async () => {
    const bodies: Array<[string, unknown]> = [
      ['disclose-firstname', { proofs: 'x' }],
      ['disclose-firstname', { proofs: [{ c: '!!', A: 1 }], indices: [] }],
      ['disclose-firstname', { proofs: [{}], indices: [[{ cred: 7, attr: 99 }]] }],
      ['sign-familyname', { '@context': 'https://irma.app/ld/signature/v2', signature: [], message: 'x' }],
      ['issue-fullName', { n_2: 'AQ==', combinedProofs: [] }],
      ['issue-fullName', { n_2: 'AQ==', combinedProofs: [{ U: 'AQ==', c: 'AQ==' }] }],
    ];
    for (const [label, body] of bodies) {
      const { send } = await freshConnected(label);
      const res = await send(body);
      expect(res.statusCode, JSON.stringify(body)).not.toBe(500);
      if (res.statusCode >= 400) expect(res.json().error, JSON.stringify(body)).toMatch(/^[A-Z_]+$/);
    }
  });

  it('answers INVALID_TIMESTAMP for a recorded signature whose timestamp was altered', async () => {
    const rec = vectors.sessions.find((s) => s.label === 'sign-familyname')!;
    const pkg = await replayable(rec);
    const ct = pkg.sessionPtr.u.split('/').pop()!;
    const [connect, post] = rec.client;
    await h.inject({ method: 'GET', url: `/irma/session/${ct}`, headers: connect.requestHeaders });
    const body = structuredClone(post.requestBody) as { timestamp: { Time: number } };
    body.timestamp.Time += 1;
    const res = await h.inject({
      method: 'POST',
      url: `/irma/session/${ct}/proofs`,
      headers: { ...post.requestHeaders, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    expect(res.json()).toEqual({ proofStatus: 'INVALID_TIMESTAMP' });
  });
});
