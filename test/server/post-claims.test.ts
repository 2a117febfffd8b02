// The app's POST is handled once across server instances sharing a store: the first to claim it
// verifies and posts to the next-session URL; the others answer from the replay cache.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/session/session.js';
import { MemoryStore } from '../../src/store/memory.js';
import { APP_HEADERS, connectApp, DISCLOSURE, makeHarness, START, startSession, type Harness } from './harness.js';
import { endpoint, JSON_HEADERS } from './live.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

const NEXT_REQUEST = JSON.stringify({
  '@context': 'https://irma.app/ld/request/disclosure/v2',
  disclose: [[['irma-demo.MijnOverheid.fullName.familyname']]],
});

/** A next-session endpoint that answers a disclosure request after `delayMs`. */
async function nextSessionEndpoint(delayMs: number) {
  const next = await endpoint((_r, res: ServerResponse) => {
    setTimeout(() => res.writeHead(200, JSON_HEADERS).end(NEXT_REQUEST), delayMs);
  });
  cleanup.push(next.close);
  return next;
}

/** Two instances on one memory store and one clock, counting verifications in one checker. */
async function pair(): Promise<[Harness, Harness]> {
  const clock = { now: START };
  const store = new MemoryStore<Session>({ now: () => clock.now });
  const a = await makeHarness({ allowUnsignedCallbacks: true }, { store, clock });
  const b = await makeHarness({ allowUnsignedCallbacks: true }, { store, clock, checker: a.checker });
  cleanup.push(a.close, b.close);
  return [a, b];
}

async function chainedSession(h: Harness, url: string) {
  const s = await startSession(h, { nextSession: { url }, request: DISCLOSURE });
  expect((await connectApp(h, s.ct)).statusCode).toBe(200);
  return s;
}

const postProofs = (h: Harness, ct: string, payload: string) =>
  h.inject({ method: 'POST', url: `/irma/session/${ct}/proofs`, headers: APP_HEADERS, payload });

async function stored(h: Harness, ct: string): Promise<Session> {
  return (await h.store.get(ct))!;
}

describe('the same proofs at two instances at once', () => {
  it('verifies once, posts once to the next-session URL, and both answer the same bytes', async () => {
    const [a, b] = await pair();
    const next = await nextSessionEndpoint(150);
    const s = await chainedSession(a, next.url);

    const [ra, rb] = await Promise.all([postProofs(a, s.ct, '{"p":1}'), postProofs(b, s.ct, '{"p":1}')]);
    expect(ra.statusCode).toBe(200);
    expect(rb.statusCode).toBe(200);
    expect(rb.body).toBe(ra.body);
    expect(ra.json().nextSession.irmaqr).toBe('disclosing');
    expect(a.checker.calls).toHaveLength(1);
    expect(next.received).toHaveLength(1);
    const session = await stored(a, s.ct);
    expect(session.status).toBe('DONE');
    expect(session.claim).toBeUndefined();
    // The one next session started is the one the app was pointed to.
    const result = (await b.inject({ method: 'GET', url: `/session/${s.token}/result` })).json();
    const nextCt = ra.json().nextSession.u.split('/').pop();
    expect((await a.store.clientTokenOf(result.nextSession))).toBe(nextCt);
  });

  it('refuses other proofs while the first are being handled, and releases the claim on NEXT_SESSION', async () => {
    const [a, b] = await pair();
    let answer = (res: ServerResponse) => res.writeHead(500).end();
    const next = await endpoint((_r, res) => setTimeout(() => answer(res), 150));
    cleanup.push(next.close);
    const s = await chainedSession(a, next.url);

    const first = postProofs(a, s.ct, '{"p":1}');
    await next.waitFor(1);
    const other = await postProofs(b, s.ct, '{"p":2}');
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ error: 'UNEXPECTED_REQUEST' });
    const failed = await first;
    expect(failed.statusCode).toBe(500);
    expect(failed.json().error).toBe('NEXT_SESSION');
    const after = await stored(a, s.ct);
    expect(after.status).toBe('CONNECTED');
    expect(after.claim).toBeUndefined();

    // The app retries on the other instance, which claims afresh.
    answer = (res) => res.writeHead(204).end();
    const retry = await postProofs(b, s.ct, '{"p":2}');
    expect(retry.statusCode).toBe(200);
    expect(next.received).toHaveLength(2);
    expect(a.checker.calls).toHaveLength(2);
  });

  it('clears the claim when verification fails for lack of capacity', async () => {
    const [a] = await pair();
    const { ProtocolError } = await import('../../src/protocol/errors.js');
    const next = await nextSessionEndpoint(0);
    const s = await chainedSession(a, next.url);
    a.checker.next = new ProtocolError('TOO_MANY_REQUESTS', 'capacity');
    expect((await postProofs(a, s.ct, '{}')).statusCode).toBe(429);
    const after = await stored(a, s.ct);
    expect(after.status).toBe('CONNECTED');
    expect(after.claim).toBeUndefined();
    expect(next.received).toHaveLength(0);
  });
});

describe('a claim left by a crashed instance', () => {
  async function crashedClaim(h: Harness, ct: string, untilMs: number, body: string, process?: string) {
    const { createHash } = await import('node:crypto');
    // What a process writes on claiming, digest and all, before it dies mid-verification.
    const request = createHash('sha256').update('/proofs').update('\0').update(body).digest('base64url');
    await h.store.update(ct, (s) => ({
      value: { ...s, claim: { claimant: 'crashedProcessAttempt', until: h.clock.now + untilMs, request, ...(process ? { process } : {}) } },
      ttlMs: 60_000,
      result: undefined,
    }));
  }

  it('refuses other proofs until its deadline, then the next POST takes over', async () => {
    const [a, b] = await pair();
    const next = await nextSessionEndpoint(0);
    const s = await chainedSession(a, next.url);
    await crashedClaim(a, s.ct, 30_000, '{"p":1}');

    const before = await stored(a, s.ct);
    const refused = await postProofs(b, s.ct, '{"p":2}');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'UNEXPECTED_REQUEST' });
    expect(await stored(a, s.ct)).toEqual(before);

    b.clock.now += 30_000;
    const taken = await postProofs(b, s.ct, '{"p":2}');
    expect(taken.statusCode).toBe(200);
    expect(next.received).toHaveLength(1);
    expect(a.checker.calls).toHaveLength(1);
    expect((await stored(a, s.ct)).status).toBe('DONE');
  });

  it('makes the same proofs wait for the deadline and then handles them', async () => {
    const [a, b] = await pair();
    const next = await nextSessionEndpoint(0);
    const s = await chainedSession(a, next.url);
    await crashedClaim(a, s.ct, 200, '{"p":1}');

    const waiting = postProofs(b, s.ct, '{"p":1}');
    await new Promise((r) => setTimeout(r, 100));
    // Nothing happened yet: the instance waits for the claimant's answer.
    expect(a.checker.calls).toHaveLength(0);
    b.clock.now += 1000;
    const res = await waiting;
    expect(res.statusCode).toBe(200);
    expect(next.received).toHaveLength(1);
    expect(a.checker.calls).toHaveLength(1);
    expect((await stored(a, s.ct)).claim).toBeUndefined();
  });

  it('takes over at once when the claim names a process that is not alive', async () => {
    const [a, b] = await pair();
    const next = await nextSessionEndpoint(0);
    const s = await chainedSession(a, next.url);
    await crashedClaim(a, s.ct, 30_000, '{"p":1}', 'processThatDied');

    // No clock change: the claim is 30 s from its deadline, but its process is gone.
    const res = await postProofs(b, s.ct, '{"p":1}');
    expect(res.statusCode).toBe(200);
    expect(a.checker.calls).toHaveLength(1);
    expect(next.received).toHaveLength(1);
    expect((await stored(a, s.ct)).status).toBe('DONE');
  });

  it('still waits for a claim of a process that is alive', async () => {
    const [a, b] = await pair();
    const next = await nextSessionEndpoint(0);
    const s = await chainedSession(a, next.url);
    await crashedClaim(a, s.ct, 30_000, '{"p":1}', a.server.ctx.liveness.id);
    const refused = await postProofs(b, s.ct, '{"p":2}');
    expect(refused.statusCode).toBe(403);
    expect(a.checker.calls).toHaveLength(0);
  });
});
