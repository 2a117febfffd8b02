// Session-level messages between server, app and frontend (spec §5.2, §5.6, §7.5, §7.6):
// the connect answer (ClientSessionRequest), pairing options, frontend status, and the
// server's answer to proofs and commitments in each protocol version's form.
import { z } from 'zod';
import { describeZodError, goObject } from './decode.js';
import { ProtocolError } from './errors.js';
import { requestForClient, sessionRequestToJson, type SessionRequest, type SessionType } from './requests.js';
import type { ProofStatus, ServerStatus } from './results.js';
import type { SessionPointer } from './session-start.js';
import { formatVersion, versionBelow, type ProtocolVersion } from './versions.js';

export const CLIENT_SESSION_REQUEST_LD_CONTEXT = 'https://irma.app/ld/request/client/v1';
export const SESSION_OPTIONS_LD_CONTEXT = 'https://irma.app/ld/options/v1';
export const FRONTEND_OPTIONS_LD_CONTEXT = 'https://irma.app/ld/request/frontendoptions/v1';

export type PairingMethod = 'none' | 'pin';

export interface SessionOptions {
  '@context': typeof SESSION_OPTIONS_LD_CONTEXT;
  pairingMethod: PairingMethod;
  /** Four digits, only with pairingMethod "pin". */
  pairingCode?: string;
}

export function sessionOptions(pairingMethod: PairingMethod = 'none', pairingCode?: string): SessionOptions {
  const out: SessionOptions = { '@context': SESSION_OPTIONS_LD_CONTEXT, pairingMethod };
  if (pairingCode) out.pairingCode = pairingCode;
  return out;
}

/**
 * The app's answer to GET /irma/session/{ct}: from 2.8 the ClientSessionRequest (without the
 * request while pairing is pending), for 2.5–2.7 the bare request, stamped with the negotiated
 * version (store that version in the session's request too: GET /request returns it). Pre-condiscon
 * (< 2.5) apps are not served.
 */
export function connectResponse(
  version: ProtocolVersion,
  options: SessionOptions,
  request: SessionRequest,
): Record<string, unknown> {
  if (versionBelow(version, 2, 5)) {
    throw new ProtocolError('PROTOCOL_VERSION', 'pre-condiscon protocol versions are not supported');
  }
  const bare = requestResponse({ ...request, protocolVersion: formatVersion(version) });
  if (versionBelow(version, 2, 8)) return bare;
  const out: Record<string, unknown> = {
    '@context': CLIENT_SESSION_REQUEST_LD_CONTEXT,
    protocolVersion: formatVersion(version),
    options: sessionOptions(options.pairingMethod, options.pairingCode),
  };
  if (options.pairingMethod === 'none') out.request = bare;
  return out;
}

/** The bare request for the app (GET /request after pairing): revocation keys stripped. */
export function requestResponse(request: SessionRequest): Record<string, unknown> {
  return sessionRequestToJson(requestForClient(request));
}

export interface FrontendOptionsRequest {
  '@context': typeof FRONTEND_OPTIONS_LD_CONTEXT;
  /** "pin", "none", or "" (keep); anything else is refused by the server as unknown. */
  pairingMethod: string;
}

const frontendOptionsSchema = goObject({
  '@context': z.string().default(''),
  pairingMethod: z.string().default(''),
});

/** POST …/frontend/options body; bad JSON shape or @context -> MALFORMED_INPUT. */
export function parseFrontendOptionsRequest(input: unknown): FrontendOptionsRequest {
  const r = frontendOptionsSchema.safeParse(input);
  if (!r.success) throw new ProtocolError('MALFORMED_INPUT', describeZodError(r.error));
  if (r.data['@context'] !== FRONTEND_OPTIONS_LD_CONTEXT) {
    throw new ProtocolError('MALFORMED_INPUT', 'Not a frontend options request');
  }
  return { '@context': FRONTEND_OPTIONS_LD_CONTEXT, pairingMethod: r.data.pairingMethod };
}

export interface FrontendSessionStatus {
  status: ServerStatus;
  nextSession?: SessionPointer;
}

export function frontendSessionStatus(status: ServerStatus, nextSession?: SessionPointer): FrontendSessionStatus {
  return nextSession ? { status, nextSession: { u: nextSession.u, irmaqr: nextSession.irmaqr } } : { status };
}

export interface ServerSessionResponse {
  proofStatus: ProofStatus;
  /** IssueSignatureMessages, as produced by the idemix layer. */
  sigs?: unknown[];
  sdjwts?: string[];
  nextSession?: SessionPointer;
}

/**
 * The body answering POST /proofs or /commitments. From 2.7 an object; before that a bare
 * proofStatus string, or for issuance the bare signature list (those versions cannot chain).
 */
export function serverSessionResponseToJson(
  r: ServerSessionResponse,
  version: ProtocolVersion,
  type: SessionType,
): unknown {
  if (!versionBelow(version, 2, 7)) {
    const out: Record<string, unknown> = { proofStatus: r.proofStatus };
    if (r.sigs && r.sigs.length > 0) out.sigs = r.sigs;
    if (r.sdjwts && r.sdjwts.length > 0) out.sdjwts = r.sdjwts;
    if (r.nextSession) out.nextSession = { u: r.nextSession.u, irmaqr: r.nextSession.irmaqr };
    return out;
  }
  if (r.nextSession) {
    throw new ProtocolError('NEXT_SESSION', 'cannot marshal next session pointer into legacy server session response');
  }
  return type === 'issuing' ? (r.sigs ?? null) : r.proofStatus;
}
