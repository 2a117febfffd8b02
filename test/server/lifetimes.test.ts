// Timeouts and retention with a clock the test moves (spec §6; §13.24–25).
import { afterEach, describe, expect, it } from 'vitest';
import { connectApp, DISCLOSURE, makeHarness, startSession, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const status = async (token: string) => (await h.inject({ method: 'GET', url: `/session/${token}/status` })).body;

describe('timeouts', () => {
  it('times out an unconnected session after the request timeout; the app is then refused', async () => {
    h = await makeHarness();
    const s = await startSession(h, { timeout: 1, request: DISCLOSURE });
    h.clock.now += 1_500;
    expect(await status(s.token)).toBe('"TIMEOUT"');
    const app = await connectApp(h, s.ct);
    expect(app.statusCode).toBe(403);
    expect(app.json().error).toBe('UNEXPECTED_REQUEST');
    expect((await h.inject({ method: 'GET', url: `/session/${s.token}/result` })).json()).toEqual({
      token: s.token,
      status: 'TIMEOUT',
      type: 'disclosing',
    });
  });

  it('uses max_session_lifetime once connected, and forgets results after session_result_lifetime', async () => {
    h = await makeHarness({ maxSessionLifetime: 2, sessionResultLifetime: 1 });
    const s = await startSession(h, { timeout: 1, request: DISCLOSURE });
    await connectApp(h, s.ct);
    h.clock.now += 60_000;
    expect(await status(s.token)).toBe('"CONNECTED"');
    h.clock.now += 60_000;
    expect(await status(s.token)).toBe('"TIMEOUT"');
    h.clock.now += 59_000;
    expect(await status(s.token)).toBe('"TIMEOUT"');
    h.clock.now += 2_000;
    expect(JSON.parse(await status(s.token)).error).toBe('SESSION_UNKNOWN');
  });

  it('keeps a DONE result for session_result_lifetime after the last activity (§13.25)', async () => {
    h = await makeHarness({ sessionResultLifetime: 1 });
    const s = await startSession(h);
    await connectApp(h, s.ct);
    await h.inject({ method: 'POST', url: `/irma/session/${s.ct}/proofs`, headers: { authorization: 'APPauthorization0001' }, payload: '{}' });
    expect(await status(s.token)).toBe('"DONE"');
    h.clock.now += 59_000;
    expect(await status(s.token)).toBe('"DONE"');
    h.clock.now += 2_000;
    expect(JSON.parse(await status(s.token)).error).toBe('SESSION_UNKNOWN');
  });
});
