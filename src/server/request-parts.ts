// Reading the parts of an incoming request the handlers need.
import type { FastifyRequest } from 'fastify';
import type { ClientCall } from '../session/machine.js';

/** A header's value; of a repeated header, the first. */
export function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body as text ("" when there is none): handlers parse it, the replay cache compares it. */
export function bodyText(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

/** An app request as the state machine sees it. */
export function clientCall(request: FastifyRequest, endpoint: string): ClientCall {
  return { endpoint, message: bodyText(request), authorization: header(request, 'authorization') };
}
