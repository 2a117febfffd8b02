import { describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/errors.js';
import { MAX_RESPONSE_BYTES, newClientAuthorization, Transport } from '../../src/client/transport.js';

function answering(status: number, body: string) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}) => {
    calls.push({ url: String(input), init });
    return new Response(body, { status });
  };
  return { fetchFn, calls };
}

async function caught(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    return err as ClientError;
  }
  throw new Error('no error');
}

describe('transport', () => {
  it('makes 20-character alphanumeric authorizations that differ', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newClientAuthorization()));
    expect(tokens.size).toBe(200);
    for (const t of tokens) expect(t).toMatch(/^[a-zA-Z0-9]{20}$/);
  });

  it('resolves paths against the session URL and sends its headers and JSON', async () => {
    const { fetchFn, calls } = answering(200, '{"ok":true}');
    const t = new Transport('http://x/irma/session/abc', { fetch: fetchFn, headers: { Authorization: 'tok' } });
    expect(await t.post('proofs', { a: 1 })).toEqual({ ok: true });
    expect(calls[0].url).toBe('http://x/irma/session/abc/proofs');
    expect(calls[0].init.method).toBe('POST');
    expect(calls[0].init.body).toBe('{"a":1}');
    expect(calls[0].init.headers).toMatchObject({ Authorization: 'tok', 'Content-Type': 'application/json' });
    await t.get('');
    expect(calls[1].url).toBe('http://x/irma/session/abc/');
    const exact = new Transport('http://x/irma/session/static', { fetch: fetchFn, exact: true });
    await exact.post('', {});
    expect(calls[2].url).toBe('http://x/irma/session/static');
  });

  it('maps a RemoteError body to serverResponse with its type', async () => {
    const { fetchFn } = answering(403, '{"status":403,"error":"PAIRING_REQUIRED","description":"Pairing is required first"}');
    const err = await caught(new Transport('http://x/s', { fetch: fetchFn }).get('request'));
    expect(err.type).toBe('serverResponse');
    expect(err.remoteType).toBe('PAIRING_REQUIRED');
    expect(err.httpStatus).toBe(403);
  });

  it('maps other failures to transport or invalidRequest', async () => {
    expect((await caught(new Transport('http://x/s', { fetch: answering(503, '').fetchFn }).get(''))).type).toBe('transport');
    expect((await caught(new Transport('http://x/s', { fetch: answering(404, '<html>').fetchFn }).get(''))).httpStatus).toBe(404);
    expect((await caught(new Transport('http://x/s', { fetch: answering(200, '{oops').fetchFn }).get(''))).type).toBe('invalidRequest');
    const refused = async () => {
      throw new TypeError('fetch failed');
    };
    expect((await caught(new Transport('http://x/s', { fetch: refused }).delete(''))).type).toBe('transport');
  });

  it('stops reading an answer beyond MAX_RESPONSE_BYTES instead of buffering it all', async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const endless = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            sent += chunk.byteLength;
            if (sent > MAX_RESPONSE_BYTES + 2 * chunk.byteLength) c.close();
            else c.enqueue(chunk);
          },
        }),
      );
    const err = await caught(new Transport('http://x/s', { fetch: async () => endless() }).get(''));
    expect(err.type).toBe('transport');
    expect(err.message).toMatch(/larger than/);
    expect(sent).toBeLessThanOrEqual(MAX_RESPONSE_BYTES + 2 * chunk.byteLength);
  });

  it('returns undefined for an empty success body', async () => {
    expect(await new Transport('http://x/s', { fetch: answering(200, '').fetchFn }).delete('')).toBeUndefined();
  });
});
