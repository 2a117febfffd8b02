// The claims of a requestor's signed session request (spec §4.2). Signature, iat/exp/nbf and
// the requestor's identity (header kid, else iss) are the server's to check with jose; this
// module maps `sub` to the session type and reads the request out of the matching claim.
import { ProtocolError } from './errors.js';
import { parseLegacyRequestorRequestAs } from './legacy-request.js';
import {
  nestedContextOf,
  parseRequestorRequestAs,
  requestorRequestToJson,
  sessionTypeOf,
  type RequestorRequest,
  type SessionType,
} from './requests.js';

export const REQUESTOR_JWT: Record<SessionType, { sub: string; claim: string }> = {
  disclosing: { sub: 'verification_request', claim: 'sprequest' },
  signing: { sub: 'signature_request', claim: 'absrequest' },
  issuing: { sub: 'issue_request', claim: 'iprequest' },
};

/** `sub` -> session type; the session type names themselves are accepted too. */
export function sessionTypeOfJwtSubject(sub: unknown): SessionType {
  for (const type of Object.keys(REQUESTOR_JWT) as SessionType[]) {
    if (sub === REQUESTOR_JWT[type].sub || sub === type) return type;
  }
  throw new ProtocolError('INVALID_REQUEST', 'Invalid session type');
}

/**
 * The extended request inside verified claims. The claim must hold an extended request whose
 * inner @context matches `sub`; otherwise INVALID_REQUEST `Invalid JWT body: …`.
 */
export function parseRequestorJwtClaims(claims: Record<string, unknown>): { type: SessionType; request: RequestorRequest } {
  const type = sessionTypeOfJwtSubject(claims.sub);
  const claim = claims[REQUESTOR_JWT[type].claim] ?? {};
  try {
    // An inner request without @context may be a pre-condiscon one, as in the reference.
    const legacy = nestedContextOf(claim) === '' && isObjectWithRequest(claim);
    return { type, request: legacy ? parseLegacyRequestorRequestAs(type, claim) : parseRequestorRequestAs(type, claim) };
  } catch (e) {
    if (e instanceof ProtocolError) throw new ProtocolError(e.type, `Invalid JWT body: ${e.message}`, { cause: e });
    throw e;
  }
}

function isObjectWithRequest(claim: unknown): boolean {
  return claim !== null && typeof claim === 'object' && Object.keys(claim).some((k) => k.toLowerCase() === 'request');
}

/** Claims for a requestor to sign (clients, CLI, tests), in the reference's member order. */
export function requestorJwtClaims(rr: RequestorRequest, opts: { issuer: string; iat: number }): Record<string, unknown> {
  const { sub, claim } = REQUESTOR_JWT[sessionTypeOf(rr.request)];
  return { sub, iss: opts.issuer, iat: opts.iat, [claim]: requestorRequestToJson(rr) };
}
