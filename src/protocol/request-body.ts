// The JSON body of POST /session (spec §3.1): top-level @context -> plain session request,
// else `request.@context` -> extended request, else an attempt at the pre-condiscon formats.
// Every form ends up as an extended request with defaults applied.
import { ProtocolError } from './errors.js';
import { checkJsonBounds, type JsonBounds } from './json-bounds.js';
import { checkRequestShape, type RequestShapeLimits } from './request-shape.js';
import { parseLegacyRequestorRequest } from './legacy-request.js';
import {
  contextOf,
  DEFAULT_RESULT_JWT_VALIDITY,
  nestedContextOf,
  parseRequestorRequestAs,
  parseSessionRequestAs,
  sessionTypeOfContext,
  type RequestorRequest,
} from './requests.js';

export function parseRequestorRequest(input: unknown): RequestorRequest {
  const context = contextOf(input);
  if (context !== '') {
    const type = sessionTypeOfContext(context);
    if (!type) throw new ProtocolError('INVALID_REQUEST', 'Invalid session request type');
    return { validity: DEFAULT_RESULT_JWT_VALIDITY, request: parseSessionRequestAs(type, input) };
  }
  const nested = nestedContextOf(input);
  if (nested === '') return parseLegacyRequestorRequest(input);
  const type = sessionTypeOfContext(nested);
  if (!type) throw new ProtocolError('INVALID_REQUEST', 'Invalid requestor request type');
  return parseRequestorRequestAs(type, input);
}

/** What a body may hold before it is parsed at all; each 0 = no limit. */
export interface RequestBodyLimits extends RequestShapeLimits {
  maxJsonDepth: number;
  maxJsonValues: number;
}

/**
 * The same from the raw body text; unparseable JSON is INVALID_REQUEST too, and so is a body over
 * `limits`, checked before the (far costlier) schema check.
 */
export function parseRequestorRequestText(body: string, limits?: RequestBodyLimits): RequestorRequest {
  if (limits) checkJsonBounds(body, { maxDepth: limits.maxJsonDepth, maxValues: limits.maxJsonValues } satisfies JsonBounds, 'INVALID_REQUEST');
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (e) {
    throw new ProtocolError('INVALID_REQUEST', e instanceof Error ? e.message : 'invalid JSON');
  }
  if (limits) checkRequestShape(input, limits);
  return parseRequestorRequest(input);
}
