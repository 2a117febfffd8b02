// Waiting while the session is PAIRING: the user types the code into the frontend, which then
// moves the session on. Like irmaclient we listen on <u>/statusevents and fall back to polling
// <u>/status when the server has no server-sent events.
import { ClientError } from './errors.js';
import type { Transport } from './transport.js';

export interface PairingWaitOptions {
  /** Polling interval when server-sent events are unavailable (irmaclient: 1 s). */
  pollIntervalMs?: number;
  /** Give up after this long. */
  timeoutMs?: number;
}

function parseStatus(v: unknown): string {
  if (typeof v !== 'string' || !/^[A-Z]+$/.test(v)) throw new ClientError('invalidRequest', 'malformed session status');
  return v;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    // The listener goes when the timer fires too: the signal outlives hundreds of polls.
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}

/** A status frame is a few dozen bytes; a longer unfinished one is not a status stream. */
const MAX_SSE_FRAME = 64 * 1024;

/** Yields the status carried by each `data:` frame of an SSE body ("open" frames carry none). */
async function* sseStatuses(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data === '') continue;
      try {
        yield parseStatus(JSON.parse(data));
      } catch {
        yield parseStatus(data.replace(/^"|"$/g, ''));
      }
    }
    if (buffer.length > MAX_SSE_FRAME) throw new ClientError('invalidRequest', 'server-sent event frame too long');
  }
}

/**
 * Calls `onPairing` once the client listens for the status change, then resolves with the first
 * status other than PAIRING.
 */
export async function waitWhilePairing(transport: Transport, onPairing: () => unknown, opts: PairingWaitOptions = {}): Promise<string> {
  const pollMs = opts.pollIntervalMs ?? 1000;
  const done = new AbortController();
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? 15 * 60_000);
  const signal = AbortSignal.any([done.signal, deadline]);

  let events: AsyncGenerator<string> | undefined;
  try {
    const res = await transport.stream('statusevents', signal);
    if (res.ok && (res.headers.get('content-type') ?? '').startsWith('text/event-stream') && res.body) {
      events = sseStatuses(res.body);
    } else {
      await res.body?.cancel();
    }
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
  }

  const fromEvents = async (): Promise<string | undefined> => {
    if (!events) return undefined;
    try {
      for await (const status of events) if (status !== 'PAIRING') return status;
    } catch (err) {
      if (signal.aborted) return undefined;
      if (err instanceof ClientError) throw err;
    }
    return undefined; // stream ended without a change: polling decides
  };

  const poll = async (once: boolean): Promise<string | undefined> => {
    while (!signal.aborted) {
      const status = parseStatus(await transport.get('status'));
      if (status !== 'PAIRING') return status;
      if (once) return undefined;
      await sleep(pollMs, signal);
    }
    return undefined;
  };

  try {
    await onPairing();
    let status: string | undefined;
    if (!events) status = await poll(false);
    else {
      // One poll catches a change made before we listened; the stream reports later ones, and
      // if it ends without a change, polling takes over.
      const never = new Promise<undefined>(() => undefined);
      status = await Promise.race([
        fromEvents().then(async (s) => s ?? (await poll(false))),
        poll(true).then((s) => s ?? never),
      ]);
    }
    if (status === undefined) throw new ClientError('pairingRejected', 'pairing did not complete in time');
    return status;
  } finally {
    done.abort();
    await events?.return(undefined).catch(() => undefined);
  }
}
