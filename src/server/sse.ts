// Server-sent status events (spec §9.3), fed by the store's subscriptions so a stream sees
// changes committed by any process. Only changes are sent, never the current status: an
// initial INITIALIZED or PAIRING frame breaks the frontend and the app.
import type { FastifyReply } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import { isFinal, type Session } from '../session/session.js';
import type { ServerContext } from './context.js';
import { frontendStatus } from './frontend-status.js';
import { bound, DEFAULT_LIMITS, type Limits } from './limits.js';

export type StreamKind = 'status' | 'frontend';

const SSE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, OPTIONS',
  'Access-Control-Allow-Headers': 'Keep-Alive,X-Requested-With,Cache-Control,Content-Type,Last-Event-ID',
};

/**
 * Open streams, so shutting down does not wait for browsers to hang up, counted in all and per
 * session against the SSE limits (each holds a connection and a store subscription).
 */
export class StreamRegistry {
  readonly #open = new Set<() => void>();
  readonly #perSession = new Map<string, number>();
  readonly #limits: Pick<Limits, 'maxSseListeners' | 'maxSseListenersPerSession'>;
  constructor(limits: Pick<Limits, 'maxSseListeners' | 'maxSseListenersPerSession'> = DEFAULT_LIMITS) {
    this.#limits = limits;
  }
  /** Registers a stream on session `ct`; TOO_MANY_REQUESTS when the limits are reached. */
  add(end: () => void, ct = ''): () => void {
    const onSession = this.#perSession.get(ct) ?? 0;
    if (this.#open.size >= bound(this.#limits.maxSseListeners)) {
      throw new ProtocolError('TOO_MANY_REQUESTS', 'too many open event streams');
    }
    if (onSession >= bound(this.#limits.maxSseListenersPerSession)) {
      throw new ProtocolError('TOO_MANY_REQUESTS', 'too many open event streams on this session');
    }
    this.#open.add(end);
    this.#perSession.set(ct, onSession + 1);
    let registered = true;
    return () => {
      if (!registered) return;
      registered = false;
      this.#open.delete(end);
      const left = (this.#perSession.get(ct) ?? 1) - 1;
      if (left > 0) this.#perSession.set(ct, left);
      else this.#perSession.delete(ct);
    };
  }
  get size(): number {
    return this.#open.size;
  }
  closeAll(): void {
    for (const end of [...this.#open]) end();
  }
}

/** The data a stream of this kind shows; a frame goes out whenever it changes. */
function dataOf(kind: StreamKind, session: Session): string {
  return JSON.stringify(kind === 'frontend' ? frontendStatus(session) : session.status);
}

export async function streamStatus(
  ctx: ServerContext,
  streams: StreamRegistry,
  reply: FastifyReply,
  session: Session,
  kind: StreamKind,
): Promise<void> {
  if (isFinal(session.status)) {
    throw new ProtocolError('UNEXPECTED_REQUEST', "Can't subscribe to server sent events of finished session");
  }
  const ct = session.clientToken;
  let last = dataOf(kind, session);
  let ended = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  const raw = reply.raw;

  const end = (): void => {
    if (ended) return;
    ended = true;
    unregister();
    void unsubscribe?.().catch(() => undefined);
    raw.end();
  };
  const unregister = streams.add(end, ct);
  const deliver = (value: Session): void => {
    if (ended) return;
    const data = dataOf(kind, value);
    if (data !== last) {
      last = data;
      raw.write(`data: ${data}\n\n`);
    }
    if (isFinal(value.status)) end();
  };

  reply.hijack();
  raw.writeHead(200, SSE_HEADERS);
  raw.flushHeaders();
  // The response closes when the browser hangs up (or when we end it).
  raw.on('close', end);
  let heard = false;
  try {
    unsubscribe = await ctx.store.subscribe(ct, (value) => {
      heard = true;
      deliver(value);
    });
  } catch (err) {
    end();
    throw err;
  }
  if (ended) {
    void unsubscribe().catch(() => undefined);
    return;
  }
  raw.write('event: open\n\n');
  // A change committed between the caller's read and the subscription would otherwise be lost.
  const current = await ctx.store.get(ct).catch(() => undefined);
  // Not once a change has been heard: the read's reply can arrive after a newer change's event (two
  // Redis connections), and the stream would go back, CONNECTED then INITIALIZED. Anything
  // committed after the subscription is heard, so the events carry whatever is newer than it.
  if (!current) end();
  else if (!heard) deliver(current);
  // The deadline watcher commits the TIMEOUT, which reaches this stream as any change does.
  if (!ended && current) ctx.deadlines.watch(current);
}
