// The requestor API (spec §3): start sessions, follow them, read and cancel their results.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import { cancel } from '../session/machine.js';
import { TOKEN_PATTERN } from '../session/tokens.js';
import type { ServerContext } from './context.js';
import { asProtocolError, sendError, sendJson } from './http-errors.js';
import { authorize } from './permissions.js';
import { RequestorAuthenticator } from './requestor-auth.js';
import { registerRevocationRequestorRoute } from './revocation-requestor.js';
import { bodyText, header } from './request-parts.js';
import { sessionResult } from './result.js';
import { limitSessionStartsOf, sessionStartsLimited } from './session-rate-limits.js';
import { startSession } from './session-factory.js';
import { clientTokenOf, load, transact } from './session-runner.js';
import { streamStatus, type StreamRegistry } from './sse.js';

const BAD_REQUESTOR_TOKEN = 'string did not pass input validation for requestorToken';

function requestorTokenParam(request: FastifyRequest): string {
  const rt = (request.params as { rt: string }).rt;
  if (!TOKEN_PATTERN.test(rt)) throw new ProtocolError('INVALID_REQUEST', BAD_REQUESTOR_TOKEN);
  return rt;
}

export function registerRequestorRoutes(app: FastifyInstance, ctx: ServerContext, streams: StreamRegistry): void {
  const authenticator = new RequestorAuthenticator(ctx.options, ctx.clock);
  let hostOf: { url: string; host: string } | undefined;
  const urlHost = (): string => {
    const url = ctx.irmaUrl();
    if (hostOf?.url !== url) hostOf = { url, host: new URL(url).host };
    return hostOf.host;
  };

  async function sessionOf(request: FastifyRequest) {
    const rt = requestorTokenParam(request);
    return load(ctx, await clientTokenOf(ctx, rt));
  }

  app.post('/session', async (request, reply) => {
    const { requestor, request: rr } = await authenticator.authenticate(
      header(request, 'content-type'),
      header(request, 'authorization'),
      bodyText(request),
    );
    authorize({ options: ctx.options, urlHost: urlHost() }, requestor, rr);
    if (sessionStartsLimited(request)) await limitSessionStartsOf(request, reply, requestor);
    if (rr.nextSession && !rr.nextSession.url) {
      throw new ProtocolError('INVALID_REQUEST', 'nextSession provided with empty URL');
    }
    if (!ctx.signer && !ctx.options.allowUnsignedCallbacks && (rr.callbackUrl || rr.nextSession)) {
      const what = rr.callbackUrl ? 'callbackUrl' : 'nextSession';
      throw new ProtocolError(
        'UNSUPPORTED',
        `${what} provided but no JWT private key is installed: either install JWT or enable allow_unsigned_callbacks in configuration`,
      );
    }
    const started = await startSession(ctx, rr, { requestor });
    return sendJson(reply, 200, started.package);
  });

  app.get('/session/:rt/status', async (request, reply) => {
    const session = await sessionOf(request);
    return sendJson(reply, 200, session.status);
  });

  app.get('/session/:rt/statusevents', async (request, reply) => {
    if (!ctx.options.sse) {
      const rt = requestorTokenParam(request);
      if ((await ctx.store.clientTokenOf(rt)) === undefined) throw new ProtocolError('UNSUPPORTED');
      throw new ProtocolError('SSE_DISABLED');
    }
    const session = await sessionOf(request);
    await streamStatus(ctx, streams, reply, session, 'status');
  });

  app.get('/session/:rt/result', async (request, reply) => {
    const session = await sessionOf(request);
    return sendJson(reply, 200, sessionResult(session));
  });

  for (const [path, kind] of [
    ['/session/:rt/result-jwt', 'result'],
    ['/session/:rt/getproof', 'proof'],
  ] as const) {
    app.get(path, async (request, reply) => {
      const signer = ctx.signer;
      if (!signer) throw new ProtocolError('EXCEPTION', 'JWT signing not supported');
      const session = await sessionOf(request);
      const now = ctx.clock();
      const jwt = kind === 'result' ? await signer.resultJwt(session, now) : await signer.proofJwt(session, now);
      return reply.code(200).type('text/plain; charset=UTF-8').send(jwt);
    });
  }

  app.delete('/session/:rt', async (request, reply) => {
    const rt = requestorTokenParam(request);
    await transact(ctx, await clientTokenOf(ctx, rt), cancel);
    return reply.code(200).send();
  });

  app.get('/publickey', async (_request, reply) => {
    if (!ctx.signer) throw new ProtocolError('UNSUPPORTED');
    return reply.code(200).type('text/plain; charset=UTF-8').send(ctx.signer.publicKeyPem);
  });

  registerRevocationRequestorRoute(app, ctx, authenticator);

  app.get('/health', async (request, reply) => {
    try {
      await ctx.store.ping();
    } catch (err) {
      request.log.warn('health check: session store unreachable');
      return sendError(reply, asProtocolError(err));
    }
    return reply.code(200).type('text/plain; charset=UTF-8').send('OK');
  });
}
