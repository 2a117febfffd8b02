// Server-sent events on real sockets (spec §9.3; §13.26).
import { afterEach, describe, expect, it } from 'vitest';
import { APP_HEADERS, DISCLOSURE } from './harness.js';
import { JSON_HEADERS, startLive, type LiveServer } from './live.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Session } from '../../src/session/session.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** Reads an event stream, collecting its text until it closes. */
function collect(res: Response) {
  const state = { text: '', closed: false };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      state.text += decoder.decode(value, { stream: true });
    }
    state.closed = true;
  })();
  return {
    state,
    done,
    async until(fragment: string, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (!state.text.includes(fragment)) {
        if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(fragment)} in ${JSON.stringify(state.text)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

async function live(): Promise<LiveServer> {
  const l = await startLive({ sse: true });
  cleanup.push(() => l.running.close());
  return l;
}

async function start(l: LiveServer) {
  const pkg = await (await fetch(`${l.base}/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(DISCLOSURE) })).json();
  return { token: pkg.token as string, ct: pkg.sessionPtr.u.split('/').pop() as string, fe: pkg.frontendRequest.authorization as string };
}

describe('status events', () => {
  it('sends open, then only changes, and closes after the final status', async () => {
    const l = await live();
    const s = await start(l);
    const res = await fetch(`${l.base}/session/${s.token}/statusevents`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const rt = collect(res);
    const fe = collect(await fetch(`${l.base}/irma/session/${s.ct}/frontend/statusevents`, { headers: { authorization: s.fe } }));
    const app = collect(await fetch(`${l.base}/irma/session/${s.ct}/statusevents`));
    await rt.until('event: open\n\n');
    await fe.until('event: open\n\n');
    await app.until('event: open\n\n');

    await fetch(`${l.base}/irma/session/${s.ct}`, { headers: APP_HEADERS });
    await rt.until('data: "CONNECTED"\n\n');
    await fe.until('data: {"status":"CONNECTED"}\n\n');
    await fetch(`${l.base}/irma/session/${s.ct}/proofs`, { method: 'POST', headers: APP_HEADERS, body: '{}' });
    await Promise.all([rt.done, fe.done, app.done]);
    expect(rt.state.text).toBe('event: open\n\ndata: "CONNECTED"\n\ndata: "DONE"\n\n');
    expect(app.state.text).toBe('event: open\n\ndata: "CONNECTED"\n\ndata: "DONE"\n\n');
    expect(fe.state.text).toBe('event: open\n\ndata: {"status":"CONNECTED"}\n\ndata: {"status":"DONE"}\n\n');

    const finished = await fetch(`${l.base}/session/${s.token}/statusevents`);
    expect(finished.status).toBe(403);
    expect((await finished.json()).message).toBe("Can't subscribe to server sent events of finished session");
  });

  it('sends TIMEOUT at the deadline without anyone asking', async () => {
    const l = await live();
    const pkg = await (
      await fetch(`${l.base}/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ timeout: 1, request: DISCLOSURE }) })
    ).json();
    const stream = collect(await fetch(`${l.base}/session/${pkg.token}/statusevents`));
    await stream.until('data: "TIMEOUT"\n\n', 4000);
    await stream.done;
    expect(stream.state.text).toBe('event: open\n\ndata: "TIMEOUT"\n\n');
  });

  it('needs the frontend authorization', async () => {
    const l = await live();
    const s = await start(l);
    const res = await fetch(`${l.base}/irma/session/${s.ct}/frontend/statusevents`, { headers: { authorization: 'nope' } });
    expect(res.status).toBe(403);
  });

  it('unsubscribes when the browser hangs up', async () => {
    let active = 0;
    class CountingStore extends MemoryStore<Session> {
      override async subscribe(ct: string, listener: (value: Session) => void) {
        const unsubscribe = await super.subscribe(ct, listener);
        active++;
        return async () => {
          active--;
          await unsubscribe();
        };
      }
    }
    const l = await startLive({ sse: true }, new CountingStore());
    cleanup.push(() => l.running.close());
    const s = await start(l);
    const controller = new AbortController();
    const res = await fetch(`${l.base}/session/${s.token}/statusevents`, { signal: controller.signal });
    const stream = collect(res);
    await stream.until('event: open');
    expect(active).toBe(1);
    controller.abort();
    await stream.done.catch(() => undefined);
    for (let i = 0; i < 100 && active > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(active).toBe(0);
  });
});

describe('status events racing the first read', () => {
  it('never go back when the read after subscribing answers after a newer change was heard', async () => {
    // The read is held until the app has connected and its change has been delivered, as a
    // Redis reply on the command connection can trail an event on the subscriber connection.
    let holdRead: Promise<void> | undefined;
    let subscribed = false;
    class LateReadStore extends MemoryStore<Session> {
      override async subscribe(ct: string, listener: (value: Session) => void) {
        const unsubscribe = await super.subscribe(ct, listener);
        subscribed = true;
        return unsubscribe;
      }
      override async get(ct: string) {
        const value = await super.get(ct);
        if (holdRead && subscribed) {
          const hold = holdRead;
          holdRead = undefined;
          await hold;
        }
        return value;
      }
    }
    const l = await startLive({ sse: true }, new LateReadStore());
    cleanup.push(() => l.running.close());
    const s = await start(l);
    let connected!: () => void;
    holdRead = new Promise<void>((r) => (connected = r));
    const stream = collect(await fetch(`${l.base}/session/${s.token}/statusevents`));
    await stream.until('event: open');
    // the read after subscribing is being held
    for (let i = 0; i < 200 && holdRead !== undefined; i++) await new Promise((r) => setTimeout(r, 5));
    expect(holdRead).toBeUndefined();
    expect((await fetch(`${l.base}/irma/session/${s.ct}`, { headers: APP_HEADERS })).status).toBe(200);
    await stream.until('CONNECTED');
    connected();
    await new Promise((r) => setTimeout(r, 50));
    expect(stream.state.text).not.toContain('INITIALIZED');
    stream.cancel();
  });
});
