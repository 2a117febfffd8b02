// CORS as the reference configures it (spec §9.4): any origin, no credentials; preflights are
// answered before routing and never reach a handler.
import type { FastifyInstance } from 'fastify';

const ALLOWED_METHODS = new Set(['GET', 'POST', 'DELETE']);
const ALLOWED_HEADERS = new Set(['accept', 'authorization', 'content-type', 'cache-control', 'origin']);

export function registerCors(app: FastifyInstance): void {
  // A callback hook: every request runs it, and most have no Origin.
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    reply.header('Vary', 'Origin');
    const preflightMethod = request.headers['access-control-request-method'];
    if (request.method === 'OPTIONS' && typeof preflightMethod === 'string') {
      reply.header('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      const method = preflightMethod.toUpperCase();
      const requested = (request.headers['access-control-request-headers'] ?? '')
        .toString()
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== '');
      if (ALLOWED_METHODS.has(method) && requested.every((h) => ALLOWED_HEADERS.has(h.toLowerCase()))) {
        reply.header('Access-Control-Allow-Origin', '*');
        reply.header('Access-Control-Allow-Methods', method);
        if (requested.length > 0) reply.header('Access-Control-Allow-Headers', requested.join(', '));
      }
      // Answered here: a callback hook that sends does not call done.
      reply.code(200).send();
      return;
    }
    reply.header('Access-Control-Allow-Origin', '*');
    done();
  });
}
