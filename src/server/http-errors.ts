// Turning anything a handler throws into the protocol's RemoteError response.
import type { FastifyReply } from 'fastify';
import { IdemixError } from '../idemix/errors.js';
import { ProtocolError, remoteError, toProtocolError } from '../protocol/errors.js';
import { StoreError } from '../store/store.js';
import type { Failure } from '../session/session.js';
import { CryptoRefusal } from './crypto-refusal.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

/** What an unreachable session store answers: 503, so clients and balancers retry later. */
const STORE_UNAVAILABLE_MESSAGE = 'session store unavailable';

/** Store and crypto errors in the error table's terms; unknown errors become INTERNAL_ERROR. */
export function asProtocolError(err: unknown): ProtocolError {
  if (err instanceof StoreError) {
    if (err.code === 'SESSION_UNKNOWN') return new ProtocolError('SESSION_UNKNOWN', '', { cause: err });
    // The reference answers INTERNAL_ERROR when Redis is down; we keep that type (apps switch on
    // it) and say with the status that the fault is temporary.
    if (err.code === 'UNAVAILABLE') {
      return new ProtocolError('INTERNAL_ERROR', STORE_UNAVAILABLE_MESSAGE, { status: 503, cause: err });
    }
    return new ProtocolError('INTERNAL_ERROR', '', { cause: err });
  }
  if (err instanceof IdemixError) return toProtocolError(err);
  return toProtocolError(err, 'INTERNAL_ERROR');
}

/**
 * A failure decided by the state machine. On the client and frontend endpoints an UNAUTHORIZED
 * is about the session's Authorization, which the table describes differently.
 */
export function failureError(failure: Failure, onSessionEndpoint: boolean): ProtocolError {
  if (failure.type === 'UNAUTHORIZED' && onSessionEndpoint && failure.message !== 'Host mismatch') {
    return ProtocolError.sessionUnauthorized(failure.message);
  }
  return new ProtocolError(failure.type, failure.message);
}

export function sendError(reply: FastifyReply, err: ProtocolError): FastifyReply {
  if (err instanceof CryptoRefusal && err.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.retryAfterSeconds));
  return reply.code(err.status).type(JSON_CONTENT_TYPE).send(JSON.stringify(remoteError(err)));
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_CONTENT_TYPE).send(JSON.stringify(body));
}
