// The server keeps no session state of its own: two instances sharing one store finish a
// session with alternating requests (spec §11; §13.32 for the memory store).
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/session/session.js';
import { MemoryStore } from '../../src/store/memory.js';
import { APP_HEADERS, connectApp, makeHarness, START, startSession, type Harness } from './harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

describe('two server instances on one store', () => {
  it('run create, connect, proofs, result and cancel alternately', async () => {
    const clock = { now: START };
    const store = new MemoryStore<Session>({ now: () => clock.now });
    const a = await makeHarness({}, { store, clock });
    const b = await makeHarness({}, { store, clock, checker: a.checker });
    harnesses.push(a, b);

    const s = await startSession(a);
    expect((await b.inject({ method: 'GET', url: `/session/${s.token}/status` })).body).toBe('"INITIALIZED"');
    expect((await connectApp(b, s.ct)).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: `/irma/session/${s.ct}/status` })).body).toBe('"CONNECTED"');
    const proofs = await a.inject({ method: 'POST', url: `/irma/session/${s.ct}/proofs`, headers: APP_HEADERS, payload: '{}' });
    expect(proofs.json()).toEqual({ proofStatus: 'VALID' });
    // The retry lands on the other instance and still gets the stored answer.
    const retry = await b.inject({ method: 'POST', url: `/irma/session/${s.ct}/proofs`, headers: APP_HEADERS, payload: '{}' });
    expect(retry.body).toBe(proofs.body);
    expect((await b.inject({ method: 'GET', url: `/session/${s.token}/result` })).json().status).toBe('DONE');

    const t = await startSession(b);
    await connectApp(a, t.ct);
    expect((await b.inject({ method: 'DELETE', url: `/irma/session/${t.ct}` })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: `/session/${t.token}/status` })).body).toBe('"CANCELLED"');
  });

  it('commits concurrent identical proofs once, and both callers get the same answer', async () => {
    const clock = { now: START };
    const store = new MemoryStore<Session>({ now: () => clock.now });
    const a = await makeHarness({}, { store, clock });
    const b = await makeHarness({}, { store, clock, checker: a.checker });
    harnesses.push(a, b);
    const s = await startSession(a);
    await connectApp(a, s.ct);
    const post = (h: Harness) => h.inject({ method: 'POST', url: `/irma/session/${s.ct}/proofs`, headers: APP_HEADERS, payload: '{"p":1}' });
    const [ra, rb] = await Promise.all([post(a), post(b)]);
    expect(ra.statusCode).toBe(200);
    expect(rb.body).toBe(ra.body);
  });
});
