// The Fastify application: routes, body handling, CORS, error rendering.
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import { registerClientRoutes } from './client-routes.js';
import type { ServerContext } from './context.js';
import { registerCors } from './cors.js';
import { asProtocolError, JSON_CONTENT_TYPE, sendError } from './http-errors.js';
import { registerRequestorRoutes } from './requestor-routes.js';
import { registerRevocationRoutes, REVOCATION_PATHS, sendRevocationNotFound } from './revocation-routes.js';
import { StreamRegistry } from './sse.js';
import { registerStaticSessionRoute } from './static-sessions.js';

/** Request bodies larger than this are refused (spec §9.5). */
export const BODY_LIMIT = 10 * 1024 * 1024;
/**
 * A request (headers and body) must arrive within this many ms (spec §9.5), so slow senders cannot
 * hold connections and half-read bodies open; Fastify's default is no limit at all.
 */
export const READ_TIMEOUT_MS = 2000;

/** Which APIs one listener serves: all, or (with a separate client port) one side each. */
export type AppRole = 'all' | 'requestor' | 'client';

/** Paths of the client API; another method on one of them is a 405, not a 404. */
const CLIENT_PATHS = [
  /^\/irma\/session\/[^/]+\/?$/,
  /^\/irma\/session\/[^/]+\/(request|commitments|proofs|status|statusevents)\/?$/,
  /^\/irma\/session\/[^/]+\/frontend\/(status|statusevents|options|pairingcompleted)\/?$/,
];

/** Session tokens are credentials: they never reach the logs. */
export function redactTokens(url: string): string {
  return url.replace(/[a-zA-Z0-9]{20,}/g, '<token>');
}

function prefixOf(apiPrefix: string): string {
  return apiPrefix.replace(/\/+$/, '');
}

/** PEM certificate chain and private key of a TLS listener. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

export function buildApp(ctx: ServerContext, role: AppRole, streams: StreamRegistry, tls?: TlsMaterial): FastifyInstance {
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const } } : {}),
    loggerInstance: ctx.log,
    // Fastify's request log lines carry URLs, and URLs carry session tokens.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    requestTimeout: READ_TIMEOUT_MS,
    exposeHeadRoutes: false,
    // Shutting down must not wait for keep-alive clients to hang up.
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true },
  });
  const prefix = prefixOf(ctx.options.apiPrefix);

  // Bodies stay text: handlers decide how to parse them (JSON, JWT, or bytes for the replay cache).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  registerCors(app);

  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: redactTokens(request.url), status: reply.statusCode }, 'request');
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (reply.sent || reply.raw.headersSent) return;
    if (err instanceof ProtocolError) return sendError(reply, err);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, new ProtocolError('INVALID_REQUEST', 'http: request body too large'));
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, new ProtocolError('INVALID_REQUEST', err.message));
    }
    const pe = asProtocolError(err);
    if (pe.type === 'INTERNAL_ERROR') {
      request.log.error({ err: { name: err.name, code: (err as { code?: unknown }).code } }, 'request failed');
    }
    return sendError(reply, pe);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const local = prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
    if (role !== 'requestor' && local.startsWith('/irma/revocation/')) {
      return sendRevocationNotFound(reply, REVOCATION_PATHS.some((p) => p.test(local)));
    }
    if ((role !== 'requestor' && local.startsWith('/irma/')) || local === '/irma') {
      const status = CLIENT_PATHS.some((p) => p.test(local)) ? 405 : 404;
      return reply.code(status).type(JSON_CONTENT_TYPE).send(JSON.stringify({ status, error: 'INVALID_REQUEST' }));
    }
    return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });

  app.register(
    async (scope) => {
      if (role !== 'client') registerRequestorRoutes(scope, ctx, streams);
      if (role !== 'requestor') {
        registerClientRoutes(scope, ctx, streams);
        registerRevocationRoutes(scope, ctx);
        registerStaticSessionRoute(scope, ctx);
      }
    },
    { prefix },
  );
  return app;
}
