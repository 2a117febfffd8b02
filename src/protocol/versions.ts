// IRMA protocol versions: the app protocol ("2.4".."2.9", spec §5.2) and the frontend protocol
// (1.0–1.1, §1). Parsing follows the reference: "x.y" with two decimal integers, and header
// values may be a bare JSON number (2.8) or a JSON string ("2.8").
import { ProtocolError } from './errors.js';

export interface ProtocolVersion {
  major: number;
  minor: number;
}

export const SERVER_MAX_VERSION: ProtocolVersion = { major: 2, minor: 8 };
/** Versions below 2.8 lack the client Authorization header; they are served only on request. */
export const SECURE_MIN_VERSION: ProtocolVersion = { major: 2, minor: 8 };
export const INSECURE_MIN_VERSION: ProtocolVersion = { major: 2, minor: 4 };

export const FRONTEND_MIN_VERSION = '1.0';
export const FRONTEND_MAX_VERSION = '1.1';

export const MIN_VERSION_HEADER = 'X-IRMA-MinProtocolVersion';
export const MAX_VERSION_HEADER = 'X-IRMA-MaxProtocolVersion';

const INTEGER = /^[+-]?[0-9]{1,9}$/;

/** Parses "x.y"; the message says what is wrong, as the reference's does. */
export function parseProtocolVersion(text: string): ProtocolVersion {
  const parts = text.split('.');
  if (parts.length !== 2) {
    throw new ProtocolError('MALFORMED_INPUT', 'Invalid protocol version number: not of form x.y');
  }
  for (const p of parts) {
    if (!INTEGER.test(p)) throw new ProtocolError('MALFORMED_INPUT', `strconv.Atoi: parsing ${JSON.stringify(p)}: invalid syntax`);
  }
  return { major: Number(parts[0]), minor: Number(parts[1]) };
}

/** An X-IRMA-*ProtocolVersion header value; absent or unparseable -> MALFORMED_INPUT. */
export function parseVersionHeader(raw: string | undefined): ProtocolVersion {
  const text = (raw ?? '').trim();
  if (text === '') throw new ProtocolError('MALFORMED_INPUT', 'unexpected end of JSON input');
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    throw new ProtocolError('MALFORMED_INPUT', 'invalid protocol version header');
  }
  return parseProtocolVersion(typeof decoded === 'string' ? decoded : text);
}

export function formatVersion(v: ProtocolVersion): string {
  return `${v.major}.${v.minor}`;
}

export function compareVersions(a: ProtocolVersion, b: ProtocolVersion): number {
  return a.major !== b.major ? Math.sign(a.major - b.major) : Math.sign(a.minor - b.minor);
}

export function versionBelow(v: ProtocolVersion, major: number, minor: number): boolean {
  return compareVersions(v, { major, minor }) < 0;
}

export function versionAbove(v: ProtocolVersion, major: number, minor: number): boolean {
  return compareVersions(v, { major, minor }) > 0;
}

export interface NegotiationOptions {
  /** The reference library's AcceptInsecureProtocolVersions: also serve versions below 2.8. */
  acceptInsecure?: boolean;
  /**
   * Whether the request converts to the pre-condiscon format. The reference decides this only
   * after negotiating, so at negotiation time it is always false there (minimum 2.5).
   */
  legacyCompatible?: boolean;
  /** The request asks for non-revocation proofs (needs 2.6). */
  revocation?: boolean;
  /** The session has a nextSession (chaining needs 2.7). */
  chained?: boolean;
}

export function serverMinVersion(opts: NegotiationOptions = {}): ProtocolVersion {
  if (!opts.acceptInsecure) return SECURE_MIN_VERSION;
  if (opts.chained) return { major: 2, minor: 7 };
  if (opts.revocation) return { major: 2, minor: 6 };
  return opts.legacyCompatible ? INSECURE_MIN_VERSION : { major: 2, minor: 5 };
}

/**
 * The version to use with a client offering [clientMin, clientMax]: the lower of clientMax and
 * the server maximum. No overlap (or clientMax < clientMin) -> PROTOCOL_VERSION, which cancels
 * the session; the reference sends no message with it.
 */
export function negotiateVersion(
  clientMin: ProtocolVersion,
  clientMax: ProtocolVersion,
  opts: NegotiationOptions = {},
): ProtocolVersion {
  const serverMin = serverMinVersion(opts);
  if (
    compareVersions(clientMin, SERVER_MAX_VERSION) > 0 ||
    compareVersions(clientMax, serverMin) < 0 ||
    compareVersions(clientMax, clientMin) < 0
  ) {
    throw new ProtocolError('PROTOCOL_VERSION');
  }
  return compareVersions(clientMax, SERVER_MAX_VERSION) > 0 ? { ...SERVER_MAX_VERSION } : { ...clientMax };
}
