// Waiting out pairing: polling must not pile up listeners on its abort signal, one per poll,
// over the minutes a user may take to type the code; a status stream must not buffer without end.
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/errors.js';
import { waitWhilePairing } from '../../src/client/pairing.js';
import { Transport } from '../../src/client/transport.js';

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

describe('waitWhilePairing without server-sent events', () => {
  it('polls until the status changes, without leaking abort listeners', async () => {
    process.on('warning', onWarning);
    let polls = 0;
    const fetchFn = async (input: string | URL | Request) => {
      if (String(input).endsWith('/statusevents')) return new Response('', { status: 404 });
      polls++;
      return new Response(JSON.stringify(polls < 30 ? 'PAIRING' : 'CONNECTED'), { status: 200 });
    };
    const transport = new Transport('http://127.0.0.1:9/irma/session/abc', { fetch: fetchFn as typeof fetch });
    expect(await waitWhilePairing(transport, () => undefined, { pollIntervalMs: 1 })).toBe('CONNECTED');
    expect(polls).toBe(30);
    // Node reports a listener leak on an AbortSignal as a MaxListenersExceededWarning.
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });
});

describe('waitWhilePairing with server-sent events', () => {
  it('gives up on a stream that never finishes a frame', async () => {
    const junk = new TextEncoder().encode('data: ' + 'A'.repeat(8192));
    let streamed = 0;
    let polls = 0;
    const fetchFn = async (input: string | URL | Request) => {
      // Polling alone would see CONNECTED on its second look: only the stream check can fail this.
      if (!String(input).endsWith('/statusevents')) return new Response(JSON.stringify(++polls > 1 ? 'CONNECTED' : 'PAIRING'));
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          streamed += junk.byteLength;
          if (streamed > 4 * 1024 * 1024) c.close();
          else c.enqueue(junk);
        },
      });
      return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    };
    const transport = new Transport('http://127.0.0.1:9/irma/session/abc', { fetch: fetchFn as typeof fetch });
    const err = await waitWhilePairing(transport, () => undefined, { pollIntervalMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ type: 'invalidRequest' });
    expect(streamed).toBeLessThan(1024 * 1024);
  });
});
