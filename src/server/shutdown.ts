// Stopping a server without failing what it holds: stop accepting connections, let the requests
// in flight finish (bounded by the grace period), end status streams so their listeners reconnect
// to another process, and only then let the caller close the crypto workers and the store.
import type { FastifyInstance } from 'fastify';

/** Seconds a stopping server gives requests in flight, unless `shutdown_grace_period` says otherwise. */
export const DEFAULT_SHUTDOWN_GRACE_PERIOD = 15;

/**
 * How often idle connections are closed while draining: a keep-alive connection becomes idle when
 * its last response is out, and Node closes idle ones only once, when the listener closes.
 */
const IDLE_SWEEP_MS = 50;

export interface DrainResult {
  /** Connections were cut because the grace period ran out (or a second signal came). */
  forced: boolean;
}

/**
 * Tracks whether the apps are stopping. While they are, every response says `Connection: close`,
 * so a client does not send its next request on a connection that is about to be closed.
 */
export class Drain {
  #draining = false;

  /** Adds the `Connection: close` header to responses sent while draining. */
  watch(app: FastifyInstance): void {
    // A callback hook: every response runs it, and an async one costs a promise each.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (this.#draining) reply.header('connection', 'close');
      done(null, payload);
    });
  }

  /**
   * Closes the apps' listeners and waits for their connections to end, at most `graceMs`, or until
   * `force` aborts; then cuts what is left. `endStreams` ends the open status streams (called
   * again on every sweep, since a kept-alive connection may still open one while draining).
   */
  async close(
    apps: FastifyInstance[],
    opts: { graceMs: number; endStreams: () => void; force?: AbortSignal },
  ): Promise<DrainResult> {
    this.#draining = true;
    // Connections the kernel completed but Node has not accepted yet are reset when the listener
    // closes; let the event loop accept what is already waiting first.
    await new Promise((resolve) => setImmediate(resolve));
    const listening = apps.filter((a) => a.server.listening);
    // Fastify's close stops accepting, closes idle connections and resolves once every
    // connection has ended; in-flight requests run to completion meanwhile.
    const closed = Promise.all(apps.map((a) => a.close())).then(() => 'closed' as const);
    closed.catch(() => undefined);
    opts.endStreams();
    const sweep = setInterval(() => {
      opts.endStreams();
      for (const a of listening) a.server.closeIdleConnections();
    }, IDLE_SWEEP_MS);
    let timer: NodeJS.Timeout | undefined;
    let onForce: (() => void) | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, opts.graceMs));
      onForce = () => resolve('late');
      if (opts.force?.aborted) resolve('late');
      else opts.force?.addEventListener('abort', onForce, { once: true });
    });
    try {
      const first = await Promise.race([closed, late]);
      if (first === 'closed') return { forced: false };
      for (const a of listening) a.server.closeAllConnections();
      await closed;
      return { forced: true };
    } finally {
      clearInterval(sweep);
      clearTimeout(timer);
      if (onForce) opts.force?.removeEventListener('abort', onForce);
    }
  }
}
