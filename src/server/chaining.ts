// Chained sessions (spec §9.1): after a successful session with `nextSession`, the requestor's
// next-session endpoint gets the result and may answer with the request of the next session.
import { ProtocolError } from '../protocol/errors.js';
import { parseRequestorRequestText } from '../protocol/request-body.js';
import { limitsOf } from './limits.js';
import { implicitDisclosure } from '../protocol/chaining.js';
import { conDisConToJson } from '../protocol/condiscon.js';
import type { DisclosedAttributes } from '../protocol/results.js';
import type { JsonValue, Qr, Session, SessionOutcome } from '../session/session.js';
import type { ServerContext } from './context.js';
import { post, resultBody } from './outbound.js';
import { authorize } from './permissions.js';
import { startSession } from './session-factory.js';

export interface NextSession {
  requestorToken: string;
  qr: Qr;
}

function nextSessionError(message: string): ProtocolError {
  return new ProtocolError('NEXT_SESSION', message);
}

/** Undefined when the requestor wants no next session (204). Failures are NEXT_SESSION. */
export async function startNextSession(
  ctx: ServerContext,
  session: Session,
  outcome: SessionOutcome,
): Promise<NextSession | undefined> {
  const url = session.nextSessionUrl!;
  if (outcome.proofStatus !== 'VALID' || outcome.error) throw nextSessionError('session not successful');
  // The reference posts the result before it marks the session DONE, so the requestor's
  // next-session handler sees it CONNECTED (with the verified proofs); requestors rely on that.
  const verified: Session = { ...session, status: 'CONNECTED', outcome };
  let response;
  try {
    response = await post(url, await resultBody(verified, ctx.signer, ctx.clock()));
  } catch {
    throw nextSessionError('next session request failed');
  }
  if (response.status === 204) return undefined;
  if (response.status !== 200) throw nextSessionError(`next session request answered with status ${response.status}`);
  let started;
  try {
    const rr = parseRequestorRequestText(response.body, limitsOf(ctx.options));
    try {
      authorize({ options: ctx.options, urlHost: new URL(ctx.irmaUrl()).host }, session.requestor, rr);
    } catch (err) {
      throw nextSessionError(`next session not authorized: ${(err as Error).message}`);
    }
    started = await startSession(ctx, rr, {
      requestor: session.requestor,
      frontendAuth: session.frontendAuth,
      implicitDisclosure: conDisConToJson(
        implicitDisclosure(outcome.disclosed as unknown as DisclosedAttributes | undefined),
      ) as JsonValue[],
    });
  } catch (err) {
    if (err instanceof ProtocolError && err.type === 'NEXT_SESSION') throw err;
    throw nextSessionError(err instanceof ProtocolError ? err.message : 'could not start next session');
  }
  return { requestorToken: started.package.token, qr: started.package.sessionPtr };
}
