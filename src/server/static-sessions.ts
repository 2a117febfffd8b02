// Static sessions (spec §3.6): a printed QR points at /irma/session/<name>; each POST there
// starts a fresh session from the configured template.
import type { FastifyInstance } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import { parseRequestorRequest } from '../protocol/request-body.js';
import type { ServerContext } from './context.js';
import { sendJson } from './http-errors.js';
import { startSession } from './session-factory.js';

const NAME = /^[a-zA-Z0-9_]+$/;

export function registerStaticSessionRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/irma/session/:name', async (request, reply) => {
    const name = (request.params as { name: string }).name;
    const template = NAME.test(name) && Object.hasOwn(ctx.options.staticSessions, name)
      ? ctx.options.staticSessions[name]
      : undefined;
    if (template === undefined) throw new ProtocolError('INVALID_REQUEST', 'unknown static session');
    let started;
    try {
      started = await startSession(ctx, parseRequestorRequest(structuredClone(template)), { requestor: '' });
    } catch (err) {
      if (err instanceof ProtocolError && err.type !== 'INTERNAL_ERROR') {
        throw new ProtocolError('MALFORMED_INPUT', err.message);
      }
      throw err;
    }
    return sendJson(reply, 200, started.package.sessionPtr);
  });
}
