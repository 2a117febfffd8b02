// The /irma/revocation/{credtype}/… endpoints (digest §5): CBOR bodies both ways, errors too,
// for the reference's clients, verifiers and issuers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_TABLE, type ErrorType } from '../protocol/errors.js';
import { encodeCbor } from '../revocation/cbor.js';
import { RevocationError } from '../revocation/errors.js';
import { EVENTS_CACHE_MAX_AGE_S } from '../revocation/service.js';
import { encodeEventList, encodeUpdate, encodeUpdateMap, updateToJson } from '../revocation/update.js';
import type { ServerContext } from './context.js';

const CBOR_TYPE = 'application/octet-stream';
const CREDTYPE = /^[^./]+\.[^./]+\.[^./]+$/;
const NUMBER = /^\d{1,9}$/;
/** Open updateevents streams per process; each holds a connection. */
const MAX_UPDATE_SUBSCRIBERS = 1000;

/** A RemoteError as CBOR, members omitted when empty, as Go's encoder with omitempty does. */
export function cborError(status: number, error: string, description?: string, message?: string): Uint8Array {
  const m = new Map<string, unknown>([['status', status], ['error', error]]);
  if (description) m.set('description', description);
  if (message) m.set('message', message);
  return encodeCbor(m);
}

function sendCborError(reply: FastifyReply, type: ErrorType, message?: string): FastifyReply {
  const { status, description } = ERROR_TABLE[type];
  return reply.code(status).type(CBOR_TYPE).send(Buffer.from(cborError(status, type, description, message)));
}

/** 404/405 for anything under /irma/revocation that matches no route (bare status and error). */
export function sendRevocationNotFound(reply: FastifyReply, methodNotAllowed: boolean): FastifyReply {
  const status = methodNotAllowed ? 405 : 404;
  return reply.code(status).type(CBOR_TYPE).send(Buffer.from(cborError(status, 'INVALID_REQUEST')));
}

export const REVOCATION_PATHS = [
  /^\/irma\/revocation\/[^/]+\/update\/\d+(\/\d+)?\/?$/,
  /^\/irma\/revocation\/[^/]+\/events\/\d+\/\d+\/\d+\/?$/,
  /^\/irma\/revocation\/[^/]+\/(updateevents|issuancerecord\/\d+)\/?$/,
];

function errorType(e: unknown): { type: ErrorType; message: string } {
  if (e instanceof RevocationError) {
    switch (e.code) {
      case 'UNAUTHORIZED':
        return { type: 'UNAUTHORIZED', message: e.message };
      case 'INVALID_REQUEST':
        return { type: 'INVALID_REQUEST', message: e.message };
      case 'UNKNOWN_REVOCATION_KEY':
        return { type: 'UNKNOWN_REVOCATION_KEY', message: e.message };
      default:
        return { type: 'REVOCATION', message: e.message };
    }
  }
  return { type: 'REVOCATION', message: 'revocation database error' };
}

type Params = { type: string; count?: string; counter?: string; from?: string; to?: string };

export function registerRevocationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.register(async (scope) => {
    // Issuance records arrive as raw CBOR.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));

    /** Checks the path's ids; returns the credential type or sends the error. */
    const served = (request: FastifyRequest, reply: FastifyReply, numbers: (keyof Params)[]): string | undefined => {
      const p = request.params as Params;
      for (const k of numbers) {
        if (!NUMBER.test(p[k] ?? '')) {
          sendRevocationNotFound(reply, false);
          return undefined;
        }
      }
      const service = ctx.revocation;
      if (!CREDTYPE.test(p.type) || !service || !service.isServer(p.type) || !ctx.schemes.credentialType(p.type)) {
        sendCborError(reply, 'INVALID_REQUEST', 'not supported by this server');
        return undefined;
      }
      return p.type;
    };

    const guarded = async (reply: FastifyReply, run: () => Promise<FastifyReply>) => {
      try {
        return await run();
      } catch (e) {
        const { type, message } = errorType(e);
        if (type === 'REVOCATION' && !(e instanceof RevocationError)) ctx.log.error({ err: { name: (e as Error)?.name } }, 'revocation endpoint failed');
        return sendCborError(reply, type, message);
      }
    };

    const base = '/irma/revocation/:type';

    scope.get(`${base}/update/:count`, async (request, reply) => {
      const type = served(request, reply, ['count']);
      if (!type) return reply;
      return guarded(reply, async () => {
        const updates = await ctx.revocation!.latestUpdates(type, Number((request.params as Params).count));
        return reply
          .code(200)
          .type(CBOR_TYPE)
          .header('cache-control', `max-age=${ctx.revocation!.updateMaxAge(updates.values(), type)}`)
          .send(Buffer.from(encodeUpdateMap(updates)));
      });
    });

    scope.get(`${base}/update/:count/:counter`, async (request, reply) => {
      const type = served(request, reply, ['count', 'counter']);
      if (!type) return reply;
      const p = request.params as Params;
      return guarded(reply, async () => {
        const u = await ctx.revocation!.update(type, Number(p.counter), Number(p.count));
        return reply
          .code(200)
          .type(CBOR_TYPE)
          .header('cache-control', `max-age=${ctx.revocation!.updateMaxAge(u ? [u] : [], type)}`)
          .send(Buffer.from(u ? encodeUpdate(u) : encodeCbor(null)));
      });
    });

    scope.get(`${base}/events/:counter/:from/:to`, async (request, reply) => {
      const type = served(request, reply, ['counter', 'from', 'to']);
      if (!type) return reply;
      const p = request.params as Params;
      return guarded(reply, async () => {
        const events = await ctx.revocation!.events(type, Number(p.counter), Number(p.from), Number(p.to));
        return reply.code(200).type(CBOR_TYPE).header('cache-control', `max-age=${EVENTS_CACHE_MAX_AGE_S}`).send(Buffer.from(encodeEventList(events)));
      });
    });

    scope.get(`${base}/updateevents`, async (request, reply) => {
      const type = served(request, reply, []);
      if (!type) return reply;
      if (!ctx.options.sse) return sendCborError(reply, 'INVALID_REQUEST', 'not supported by this server');
      if (ctx.revocation!.subscribers >= MAX_UPDATE_SUBSCRIBERS) return sendCborError(reply, 'REVOCATION', 'too many subscribers');
      // Each message is an Update as JSON without `event:` line, as the reference sends them.
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      raw.flushHeaders();
      const unsubscribe = ctx.revocation!.onUpdate((t, u) => {
        if (t === type) raw.write(`data: ${JSON.stringify(updateToJson(u))}\n\n`);
      });
      raw.on('close', unsubscribe);
      return reply;
    });

    scope.post(`${base}/issuancerecord/:counter`, async (request, reply) => {
      const type = served(request, reply, ['counter']);
      if (!type) return reply;
      const body = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
      return guarded(reply, async () => {
        await ctx.revocation!.acceptIssuanceRecord(type, Number((request.params as Params).counter), body);
        return reply.code(200).send();
      });
    });
  });
}
