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
import { clientErrorHandler, limitConnections, serverTimeouts } from './connection-limits.js';
import { bodyLimitOf, checkBodyBounds, limitsOf } from './limits.js';
import { registerStaticSessionRoute } from './static-sessions.js';
import { registerStaticFiles } from './static-files.js';
import { registerHealthRoutes } from './health.js';
import { registerMetricsRoute, registerRequestMetrics } from './metrics-http.js';
import { lazyChildLoggerFactory } from './lazy-child-logger.js';
import { registerRequestLog, requestId } from './request-log.js';
import { trustProxyOf } from './trusted-proxies.js';
import { lazySchemaCompilers } from './schema-compilers.js';
import { registerSessionRateLimits } from './session-rate-limits.js';

/** Which APIs one listener serves: all, or (with a separate client port) one side each. */
export type AppRole = 'all' | 'requestor' | 'client';

/** Paths of the client API; another method on one of them is a 405, not a 404. */
const CLIENT_PATHS = [
  /^\/irma\/session\/[^/]+\/?$/,
  /^\/irma\/session\/[^/]+\/(request|commitments|proofs|status|statusevents)\/?$/,
  /^\/irma\/session\/[^/]+\/frontend\/(status|statusevents|options|pairingcompleted)\/?$/,
];

function prefixOf(apiPrefix: string): string {
  return apiPrefix.replace(/\/+$/, '');
}

/** PEM certificate chain and private key of a TLS listener. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

export function buildApp(ctx: ServerContext, role: AppRole, streams: StreamRegistry, tls?: TlsMaterial): FastifyInstance {
  const limits = limitsOf(ctx.options);
  const timeouts = serverTimeouts(limits);
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const, ...timeouts } } : {}),
    http: timeouts,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    clientErrorHandler,
    // A child, so that its level can be raised while listening (see quietListen in index.ts).
    loggerInstance: ctx.log.child({}),
    // Fastify's request log lines carry URLs, and URLs carry session tokens: request-log.ts logs instead.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    childLoggerFactory: lazyChildLoggerFactory,
    trustProxy: trustProxyOf(ctx.options.trustedProxies),
    bodyLimit: bodyLimitOf(limits, ''),
    requestTimeout: timeouts.requestTimeout,
    exposeHeadRoutes: false,
    // Stopping closes idle keep-alive connections at once; busy ones end after their response
    // (src/server/shutdown.ts), and requests already on a connection are served, not refused.
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
    schemaController: lazySchemaCompilers,
  });
  limitConnections(app.server, limits);
  const prefix = prefixOf(ctx.options.apiPrefix);

  // Bodies stay text: handlers decide how to parse them (JSON, JWT, or bytes for the replay cache).
  // Every body is checked for depth and size here, whether or not a handler would read all of it.
  app.removeAllContentTypeParsers();
  const asText = (req: { url: string }, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    try {
      checkBodyBounds(limits, req.url, body as string);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, body);
  };
  // Named as well as caught by '*': Fastify remembers which parser a Content-Type gets only for
  // named ones, and parses the header anew on every request that falls through to '*' (~3 µs).
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, asText);
  app.addContentTypeParser('*', { parseAs: 'string' }, asText);
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= bodyLimitOf(limits, route.url.slice(prefix.length));
  });

  registerCors(app);

  registerRequestLog(app);
  if (ctx.metrics) registerRequestMetrics(app, ctx.metrics);

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

  registerSessionRateLimits(app, ctx);
  app.register(
    async (scope) => {
      if (role !== 'client') registerRequestorRoutes(scope, ctx, streams);
      if (role !== 'requestor') {
        registerClientRoutes(scope, ctx, streams);
        registerRevocationRoutes(scope, ctx);
        registerStaticSessionRoute(scope, ctx);
      }
      if (role !== 'client') registerHealthRoutes(scope, ctx.store);
    },
    { prefix },
  );
  if (role !== 'client') registerStaticFiles(app, ctx.options);
  if (role !== 'client' && ctx.metrics && !ctx.options.production && !ctx.options.metricsPort) {
    registerMetricsRoute(app, ctx.metrics);
  }
  return app;
}
