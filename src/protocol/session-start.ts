// What the server adds to a validated request when it starts a session (spec §1, §3.2, §7.1,
// §7.4): nonce and context, devMode, the augmented return URL, the session pointer and the
// frontend's pairing hint.
import { encodeB64 } from '../idemix/bigint.js';
import { pooledRandomBytes } from '../idemix/random-pool.js';
import { attributeRequests } from './condiscon.js';
import { ProtocolError } from './errors.js';
import { sessionTypeOf, type RequestorRequest, type SessionRequest, type SessionType } from './requests.js';
import { FRONTEND_MAX_VERSION, FRONTEND_MIN_VERSION } from './versions.js';

/**
 * A session nonce, uniform in [0, 2^128), in gabi's encoding (the base64 of its minimal bytes),
 * made from the random bytes directly: going through a bigint and back cost ~5 µs a session.
 */
export function generateNonce(): string {
  const bytes = pooledRandomBytes(16);
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.toString('base64', start);
}

/** The fixed session context, 1. */
export const SESSION_CONTEXT = encodeB64(1n);

export interface ServerFields {
  /** The nonce as encoded on the wire (encodeB64). */
  nonce: string;
  /** !production */
  devMode: boolean;
}

/** A copy with nonce, context and devMode set, overwriting whatever the requestor sent. */
export function withServerFields<T extends SessionRequest>(request: T, fields: ServerFields): T {
  // Object.assign, not a spread: Node 20's V8 takes a slow path (~2 µs) for every member added
  // to a spread copy that its source lacked, and nonce and context usually are such members.
  const out: T = Object.assign({}, request);
  out.nonce = fields.nonce;
  out.context = SESSION_CONTEXT;
  if (fields.devMode) out.devMode = true;
  else if (out.devMode !== undefined) out.devMode = undefined;
  return out;
}

/**
 * `clientReturnUrl` with `token=<requestor token>` appended, when both the request and the
 * server ask for it; otherwise the URL unchanged.
 */
export function augmentedReturnUrl(request: SessionRequest, requestorToken: string, serverAllows: boolean): string | undefined {
  const url = request.clientReturnUrl;
  if (!serverAllows || !request.augmentReturnUrl || !url) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${requestorToken}`;
}

/** The session pointer (irma.Qr) the app scans. */
export interface SessionPointer {
  u: string;
  irmaqr: SessionType | 'redirect';
}

/**
 * `<base>/session/<clientToken>` where base is the server's /irma URL; a request `host`
 * replaces only the host part (port included).
 */
export function sessionPointer(baseUrl: string, clientToken: string, type: SessionType, host?: string): SessionPointer {
  const prefix = host ? undefined : sessionUrlPrefix(baseUrl);
  if (prefix !== undefined) return { u: prefix + clientToken, irmaqr: type };
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ProtocolError('INTERNAL_ERROR', 'invalid server URL');
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/session/${clientToken}`;
  if (host) {
    // Go replaces the whole host:port; URL's host setter would keep an old port.
    const given = hostOf(host, url.protocol);
    url.hostname = given.hostname;
    url.port = given.port;
  }
  return { u: url.toString(), irmaqr: type };
}

/**
 * `<base>/session/` as URL serialises it, remembered for the server's one base URL (asked on every
 * start); undefined when the URL does not parse or has a query or fragment after its path.
 */
let prefixOf: { base: string; prefix: string | undefined } | undefined;
function sessionUrlPrefix(baseUrl: string): string | undefined {
  if (prefixOf?.base === baseUrl) return prefixOf.prefix;
  let prefix: string | undefined;
  if (URL.canParse(baseUrl)) {
    const url = new URL(baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/session/`;
    // Tokens are alphanumeric: appended to the path they need no escaping.
    if (!url.search && !url.hash) prefix = url.toString();
  }
  prefixOf = { base: baseUrl, prefix };
  return prefix;
}

function hostOf(host: string, protocol: string): URL {
  let probe: URL | undefined;
  try {
    probe = new URL(`${protocol}//${host}`);
  } catch {
    probe = undefined;
  }
  if (!probe || probe.pathname !== '/' || probe.username || probe.password || probe.search || probe.hash || host.includes('/')) {
    throw new ProtocolError('INVALID_REQUEST', `invalid host ${host}`);
  }
  return probe;
}

/**
 * Whether the frontend should offer pairing: always with a next session, for disclosures only
 * when a value is required (that leaks what the requestor expects), always for signing and
 * issuance.
 */
export function pairingHint(rr: RequestorRequest): boolean {
  if (rr.nextSession?.url) return true;
  if (sessionTypeOf(rr.request) !== 'disclosing') return true;
  for (const r of attributeRequests(rr.request.disclose)) if (r.value !== undefined) return true;
  return false;
}

/** FrontendSessionRequest: what the browser frontend needs to drive the session. */
export interface FrontendSessionRequest {
  authorization: string;
  pairingHint?: boolean;
  minProtocolVersion: string;
  maxProtocolVersion: string;
}

export function frontendSessionRequest(authorization: string, hint: boolean): FrontendSessionRequest {
  return {
    authorization,
    ...(hint ? { pairingHint: true } : {}),
    minProtocolVersion: FRONTEND_MIN_VERSION,
    maxProtocolVersion: FRONTEND_MAX_VERSION,
  };
}

/** The POST /session answer. */
export interface SessionPackage {
  sessionPtr: SessionPointer;
  token: string;
  frontendRequest: FrontendSessionRequest;
}
