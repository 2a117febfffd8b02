// Liveness and readiness for process managers and load balancers. Live: the process answers HTTP.
// Ready: it can also reach its session store, within a bounded time (a store that hangs must read
// as not ready, not as a probe that never answers).
import type { FastifyInstance } from 'fastify';
import type { SessionStore } from '../store/store.js';
import type { Session } from '../session/session.js';

/** A readiness probe answers within this many ms. */
export const READY_TIMEOUT_MS = 2000;

export function registerHealthRoutes(app: FastifyInstance, store: SessionStore<Session>): void {
  app.get('/health/live', async (_request, reply) => reply.code(200).type('text/plain; charset=UTF-8').send('OK'));
  app.get('/health/ready', async (request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([store.ping(), late]);
    } catch {
      request.log.warn('readiness check: session store unreachable');
      return reply.code(503).type('text/plain; charset=UTF-8').send('session store unreachable');
    } finally {
      clearTimeout(timer);
    }
    return reply.code(200).type('text/plain; charset=UTF-8').send('OK');
  });
}
