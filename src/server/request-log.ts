// One log line per request at info: method, route template, status, duration and request id.
// The route template (/session/:rt/status), never the URL: URLs carry session tokens, which are
// credentials. The request id comes from the caller's X-Request-Id when it is a plausible id (a
// proxy's or load balancer's, so their logs and ours join up), else a fresh one, and is echoed
// in the response either way.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Ids a caller may choose: bounded, and nothing that could break a log line or a header. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Fastify's genReqId: the caller's X-Request-Id when acceptable, else a random UUID. */
export function requestId(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}

/** The route template the request matched, or a fixed word for requests that matched none. */
export function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? '(unmatched)';
}

/** pino's loggers (and the lazy child standing in for one) can say whether a level is written. */
type Leveled = { isLevelEnabled?: (level: string) => boolean };

export function registerRequestLog(app: FastifyInstance): void {
  // Callback hooks, not async ones: every request runs them, and a promise each costs more than they do.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Fastify builds routeOptions anew at each read: not for a line that would not be written.
    if ((request.log as Leveled).isLevelEnabled?.('info') === false) return done();
    request.log.info(
      {
        method: request.method,
        route: routeOf(request),
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    done();
  });
}
