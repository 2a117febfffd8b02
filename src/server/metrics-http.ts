// Metrics over HTTP: the hooks that measure every request, the GET /metrics route, and the
// separate metrics listener (metrics_port). /metrics tells anyone who can read it how busy the
// server is and which errors it gives, so it is only on the public listener in development; in
// production it is served only on metrics_port, which listens on loopback unless told otherwise.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Session } from '../session/session.js';
import type { SessionStore } from '../store/store.js';
import { registerHealthRoutes } from './health.js';
import type { ServerMetrics } from './metrics.js';
import { lazySchemaCompilers } from './schema-compilers.js';
import { routeOf } from './request-log.js';

const ERROR_TYPE = /^[A-Z_]{1,40}$/;

/** The protocol error type in an error response body, so rejections are counted by reason. */
function errorTypeOf(payload: unknown): string {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return 'none';
  try {
    const error = (JSON.parse(payload) as { error?: unknown }).error;
    return typeof error === 'string' && ERROR_TYPE.test(error) ? error : 'other';
  } catch {
    return 'other';
  }
}

export function registerRequestMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  // Callback hooks: every request runs them (see request-log.ts).
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode >= 400) metrics.rejected.inc({ status: String(reply.statusCode), error: errorTypeOf(payload) });
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const labels = { method: request.method, route: routeOf(request), status: String(reply.statusCode) };
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}

export function registerMetricsRoute(app: FastifyInstance, metrics: ServerMetrics): void {
  app.get('/metrics', async (_request, reply) => reply.code(200).type(metrics.contentType).send(await metrics.text()));
}

/** The listener of metrics_port: /metrics and the health checks, nothing of the IRMA APIs. */
export function buildMetricsApp(metrics: ServerMetrics, store: SessionStore<Session>, logger: FastifyBaseLogger): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger.child({ listener: 'metrics' }),
    disableRequestLogging: true,
    forceCloseConnections: true,
    schemaController: lazySchemaCompilers,
  });
  registerMetricsRoute(app, metrics);
  registerHealthRoutes(app, store);
  return app;
}
