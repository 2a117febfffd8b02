// The app's API under /irma/session/{ct} (spec §5) and the frontend's (§5.6).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import { parseVersionHeader } from '../protocol/versions.js';
import { cancel, completePairing, connect, getRequest, setFrontendOptions } from '../session/machine.js';
import type { Session } from '../session/session.js';
import { newPairingCode, sameSecret, TOKEN_PATTERN } from '../session/tokens.js';
import { parseFrontendOptionsRequest } from '../protocol/messages.js';
import { handleClientPost } from './client-post.js';
import type { ServerContext } from './context.js';
import { frontendStatus } from './frontend-status.js';
import { sendJson } from './http-errors.js';
import { sendMachineReply } from './replies.js';
import { bodyText, clientCall, header } from './request-parts.js';
import { load, transact } from './session-runner.js';
import { streamStatus, type StreamRegistry } from './sse.js';
import { revocationUpdatesFor } from './revocation-updates.js';

type Params = { ct: string };
const BAD_CLIENT_TOKEN = 'string did not pass input validation for clientToken';

function clientTokenParam(request: FastifyRequest): string {
  const ct = (request.params as Params).ct;
  if (!TOKEN_PATTERN.test(ct)) throw new ProtocolError('INVALID_REQUEST', BAD_CLIENT_TOKEN);
  return ct;
}

/** A request `host` binds the session to that host (§5.1 step 4). */
function checkHost(session: Session, request: FastifyRequest): void {
  if (!session.host) return;
  const actual = (header(request, 'host') ?? '').toLowerCase();
  const wanted = session.host.toLowerCase();
  const hostOnly = actual.replace(/:\d+$/, '');
  if (actual !== wanted && hostOnly !== wanted) throw new ProtocolError('UNAUTHORIZED', 'Host mismatch');
}

/** A JSON body the frontend sent; unparseable is MALFORMED_INPUT. */
function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ProtocolError('MALFORMED_INPUT', 'invalid JSON');
  }
}

function checkFrontendAuth(session: Session, request: FastifyRequest): void {
  const given = header(request, 'authorization');
  if (given === undefined || !sameSecret(given, session.frontendAuth)) {
    throw ProtocolError.sessionUnauthorized();
  }
}

export function registerClientRoutes(app: FastifyInstance, ctx: ServerContext, streams: StreamRegistry): void {
  const base = '/irma/session/:ct';

  /** Token syntax, load (with lazy timeout), host binding: steps 1–4 of §5.1. */
  async function open(request: FastifyRequest): Promise<Session> {
    const ct = clientTokenParam(request);
    const session = await load(ctx, ct);
    checkHost(session, request);
    return session;
  }

  app.get(base, async (request, reply) => {
    const session = await open(request);
    const minVersion = parseVersionHeader(header(request, 'x-irma-minprotocolversion'));
    const maxVersion = parseVersionHeader(header(request, 'x-irma-maxprotocolversion'));
    const call = clientCall(request, '');
    // Fetched before the transition: the state machine does no I/O.
    const revocation = session.status === 'INITIALIZED' ? await revocationUpdatesFor(ctx, session.request) : undefined;
    const { transition } = await transact(ctx, session.clientToken, (s, m) =>
      connect(
        s,
        Object.assign({}, call, {
          minVersion,
          maxVersion,
          negotiation: { acceptInsecure: ctx.options.acceptInsecureProtocolVersions ?? false, chained: !!s.nextSessionUrl },
          revocation,
        }),
        m,
      ),
    );
    return sendMachineReply(reply, transition.reply, true);
  });

  app.delete(base, async (request, reply) => {
    const session = await open(request);
    await transact(ctx, session.clientToken, cancel);
    return reply.code(200).send();
  });

  app.get(`${base}/request`, async (request, reply) => {
    const session = await open(request);
    const call = clientCall(request, '/request');
    const { transition } = await transact(ctx, session.clientToken, (s, m) => getRequest(s, call, m));
    return sendMachineReply(reply, transition.reply, true);
  });

  /**
   * The app's POSTs to one session run one at a time in this process: a retry that arrives while
   * the first attempt is still verifying then meets its answer in the replay cache, instead of
   * verifying again and posting to the requestor's next-session URL a second time.
   */
  const posting = new Map<string, Promise<unknown>>();
  async function oneAtATime<T>(key: string, run: () => Promise<T>): Promise<T> {
    for (let earlier = posting.get(key); earlier; earlier = posting.get(key)) await earlier.catch(() => undefined);
    const current = run();
    posting.set(key, current);
    try {
      return await current;
    } finally {
      if (posting.get(key) === current) posting.delete(key);
    }
  }

  for (const endpoint of ['/proofs', '/commitments'] as const) {
    app.post(`${base}${endpoint}`, async (request, reply) =>
      oneAtATime((request.params as Params).ct, async () => {
        const session = await open(request);
        return handleClientPost(ctx, request, reply, session, endpoint);
      }),
    );
  }

  app.get(`${base}/status`, async (request, reply) => {
    const session = await open(request);
    return sendJson(reply, 200, session.status);
  });

  app.get(`${base}/statusevents`, async (request, reply) => {
    const session = await open(request);
    if (!ctx.options.sse) throw new ProtocolError('SSE_DISABLED');
    await streamStatus(ctx, streams, reply, session, 'status');
  });

  app.get(`${base}/frontend/status`, async (request, reply) => {
    const session = await open(request);
    checkFrontendAuth(session, request);
    return sendJson(reply, 200, frontendStatus(session));
  });

  app.get(`${base}/frontend/statusevents`, async (request, reply) => {
    const session = await open(request);
    checkFrontendAuth(session, request);
    if (!ctx.options.sse) throw new ProtocolError('SSE_DISABLED');
    await streamStatus(ctx, streams, reply, session, 'frontend');
  });

  app.post(`${base}/frontend/options`, async (request, reply) => {
    const session = await open(request);
    checkFrontendAuth(session, request);
    const { pairingMethod } = parseFrontendOptionsRequest(parseJsonBody(bodyText(request)));
    const pairingCode = newPairingCode();
    const { transition } = await transact(ctx, session.clientToken, (s, m) =>
      setFrontendOptions(s, { pairingMethod, pairingCode }, m),
    );
    return sendMachineReply(reply, transition.reply, true);
  });

  app.post(`${base}/frontend/pairingcompleted`, async (request, reply) => {
    const session = await open(request);
    checkFrontendAuth(session, request);
    const { transition } = await transact(ctx, session.clientToken, completePairing);
    return sendMachineReply(reply, transition.reply, true);
  });
}
