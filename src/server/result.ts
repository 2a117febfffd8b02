// The SessionResult (spec §7.7) of a stored session, for /result, the JWTs and callbacks.
import { ProtocolError, remoteError } from '../protocol/errors.js';
import { parseSignedMessage } from '../protocol/proof-messages.js';
import { sessionResultToJson, type DisclosedAttributes, type SessionResult } from '../protocol/results.js';
import type { Session } from '../session/session.js';

export function toSessionResult(session: Session): SessionResult {
  const o = session.outcome;
  const r: SessionResult = { token: session.requestorToken, status: session.status, type: session.action };
  if (o.proofStatus !== undefined) r.proofStatus = o.proofStatus;
  // Stored as the disclosure check produced them, so they already have this shape.
  if (o.disclosed !== undefined) r.disclosed = o.disclosed as unknown as DisclosedAttributes;
  if (o.signature !== undefined) r.signature = parseSignedMessage(o.signature);
  if (o.error !== undefined) r.error = remoteError(new ProtocolError(o.error.type, o.error.message));
  if (o.nextSession !== undefined) r.nextSession = o.nextSession;
  return r;
}

export function sessionResult(session: Session): Record<string, unknown> {
  return sessionResultToJson(toSessionResult(session));
}
