// How much any one request can make the server do: body sizes, request shapes, JSON depth, stored
// bytes per session, SSE streams, connections and read timeouts. Each limit has an option of its
// own (see LIMIT_KEYS); 0 turns a count or size limit off.
import { checkJsonBounds, type JsonBounds } from '../protocol/json-bounds.js';
import { OptionsError, type ServerOptions } from './options.js';

export interface Limits {
  /** Bytes of a POST /session body (JSON or JWT): a signed message of some hundred KiB fits. */
  maxSessionRequestSize: number;
  /** Bytes of the app's POST /proofs or /commitments body (a signature's message comes back in it). */
  maxClientMessageSize: number;
  /** Bytes of any other request body. */
  maxBodySize: number;
  /** Nesting of arrays and objects in any JSON body, including members nobody reads. */
  maxJsonDepth: number;
  /** Values (arrays, objects, and members of either) in any JSON body. */
  maxJsonValues: number;
  /** Credentials one issuance request may ask to issue. */
  maxIssuanceCredentials: number;
  /** Disjunctions of one request's condiscon. */
  maxDisjunctions: number;
  /** Attributes one request names: requested for disclosure plus those of credentials to issue. */
  maxRequestAttributes: number;
  /** Bytes of one session's stored state (JSON). */
  maxSessionSize: number;
  /** Open server-sent event streams in this process, and on one session. */
  maxSseListeners: number;
  maxSseListenersPerSession: number;
  /** Open connections to one listener, and from one client address. */
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** Milliseconds a client may take to send the headers, and the whole request. */
  readHeaderTimeout: number;
  readTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open between requests. */
  idleTimeout: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxSessionRequestSize: 1 * MiB,
  maxClientMessageSize: 2 * MiB,
  maxBodySize: 64 * KiB,
  maxJsonDepth: 64,
  maxJsonValues: 4096,
  maxIssuanceCredentials: 32,
  maxDisjunctions: 128,
  maxRequestAttributes: 256,
  maxSessionSize: 8 * MiB,
  maxSseListeners: 4096,
  maxSseListenersPerSession: 16,
  maxConnections: 8192,
  maxConnectionsPerClient: 256,
  readHeaderTimeout: 2000,
  readTimeout: 2000,
  idleTimeout: 5000,
};

/** Config key of each limit, as option-specs.ts declares it (flag and env var follow from it). */
export const LIMIT_KEYS: Readonly<Record<keyof Limits, string>> = {
  maxSessionRequestSize: 'max_session_request_size',
  maxClientMessageSize: 'max_client_message_size',
  maxBodySize: 'max_body_size',
  maxJsonDepth: 'max_json_depth',
  maxJsonValues: 'max_json_values',
  maxIssuanceCredentials: 'max_issuance_credentials',
  maxDisjunctions: 'max_disjunctions',
  maxRequestAttributes: 'max_request_attributes',
  maxSessionSize: 'max_session_size',
  maxSseListeners: 'max_sse_listeners',
  maxSseListenersPerSession: 'max_sse_listeners_per_session',
  maxConnections: 'max_connections',
  maxConnectionsPerClient: 'max_connections_per_client',
  readHeaderTimeout: 'read_header_timeout',
  readTimeout: 'read_timeout',
  idleTimeout: 'idle_timeout',
};

/** The timeouts: 0 would mean "wait forever", which is what they exist to prevent. */
const TIMEOUTS: ReadonlyArray<keyof Limits> = ['readHeaderTimeout', 'readTimeout', 'idleTimeout'];

/** The limits in force: the configured ones over the defaults. */
export function limitsOf(options: Pick<ServerOptions, 'limits'>): Limits {
  return { ...DEFAULT_LIMITS, ...options.limits };
}

/** A limit of 0 is no limit. */
export function bound(limit: number): number {
  return limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
}

export function checkLimits(limits: Partial<Limits> | undefined): void {
  for (const [field, value] of Object.entries(limits ?? {}) as Array<[keyof Limits, number | undefined]>) {
    if (value === undefined) continue;
    const key = LIMIT_KEYS[field] ?? field;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new OptionsError(`${key} must be a non-negative integer (was ${value})`);
    }
    if (TIMEOUTS.includes(field) && value === 0) throw new OptionsError(`${key} must be at least 1 ms`);
  }
  const l = limitsOf({ limits });
  if (l.readHeaderTimeout > l.readTimeout) {
    throw new OptionsError(`read_header_timeout (${l.readHeaderTimeout}) must not exceed read_timeout (${l.readTimeout})`);
  }
}

/** The body limit of a route, by its path below the API prefix. */
export function bodyLimitOf(limits: Limits, path: string): number {
  const local = path.replace(/\/+$/, '');
  if (local === '/session') return bound(limits.maxSessionRequestSize);
  if (/^\/irma\/session\/[^/]+\/(proofs|commitments)$/.test(local)) return bound(limits.maxClientMessageSize);
  return bound(limits.maxBodySize);
}

export function jsonBoundsOf(limits: Limits): JsonBounds {
  return { maxDepth: limits.maxJsonDepth, maxValues: limits.maxJsonValues };
}

/** The app's API calls bad input MALFORMED_INPUT; the requestor's, INVALID_REQUEST. */
export function checkBodyBounds(limits: Limits, url: string, body: string): void {
  checkJsonBounds(body, jsonBoundsOf(limits), url.includes('/irma/session/') ? 'MALFORMED_INPUT' : 'INVALID_REQUEST');
}
