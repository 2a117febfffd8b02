// POST /irma/session/{ct}/proofs and /commitments (spec §5.4): parse, verify outside the store,
// start a chained session if asked, then commit the outcome with a compare-and-set.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IdemixError } from '../idemix/errors.js';
import { parseProofList } from '../idemix/proofs.js';
import { ProtocolError } from '../protocol/errors.js';
import { parseProtocolVersion } from '../protocol/versions.js';
import { serverSessionResponseToJson } from '../protocol/messages.js';
import { parseDisclosure, parseIssueCommitmentMessage, parseSignedMessage } from '../protocol/proof-messages.js';
import type { SessionPointer } from '../protocol/session-start.js';
import { commitClientPost, precheckClientPost, type Verdict } from '../session/machine.js';
import type { JsonValue, Session, SessionOutcome } from '../session/session.js';
import { startNextSession, type NextSession } from './chaining.js';
import { clientCall } from './request-parts.js';
import type { ServerContext } from './context.js';
import { asProtocolError, sendError } from './http-errors.js';
import { sendMachineReply } from './replies.js';
import { machineContext, transact } from './session-runner.js';

/** The attribute requests of a condiscon as the session stores it (JSON). */
function attributeRequestCount(cdc: JsonValue | undefined): number {
  let n = 0;
  if (!Array.isArray(cdc)) return n;
  for (const dis of cdc) if (Array.isArray(dis)) for (const con of dis) if (Array.isArray(con)) n += con.length;
  return n;
}

/**
 * Every proof costs modular exponentiations, and a 10 MiB body holds thousands of them. An honest
 * app sends one proof per credential it uses, so at most one per requested attribute (the implicit
 * disclosure of a chain included), plus one commitment per credential to issue.
 */
function maxProofs(session: Session): number {
  const credentials = session.request.credentials;
  return (
    attributeRequestCount(session.request.disclose) +
    attributeRequestCount(session.implicitDisclosure) +
    (Array.isArray(credentials) ? credentials.length : 0)
  );
}

/** The envelope must parse (MALFORMED_INPUT otherwise, leaving the session as it was). */
function parseMessage(body: string, session: Session): JsonValue {
  const action = session.action;
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    throw new ProtocolError('MALFORMED_INPUT', 'invalid JSON');
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new ProtocolError('MALFORMED_INPUT', 'expected a JSON object');
  }
  const proofs =
    action === 'disclosing'
      ? parseDisclosure(message).proofs
      : action === 'signing'
        ? parseSignedMessage(message).signature
        : parseIssueCommitmentMessage(message).combinedProofs;
  const max = maxProofs(session);
  if (proofs.length > max) {
    throw new ProtocolError('MALFORMED_INPUT', `${proofs.length} proofs where the session asks for at most ${max}`);
  }
  // The reference decodes every proof while parsing the body, so a proof that does not decode
  // (a bad integer, neither A nor U) is a bad body that leaves the session alone, not a failed check.
  try {
    parseProofList(proofs);
  } catch (err) {
    if (err instanceof IdemixError && err.code === 'MALFORMED') throw new ProtocolError('MALFORMED_INPUT', err.message);
    throw err;
  }
  return message as JsonValue;
}

interface Verified {
  outcome: SessionOutcome;
  sigs?: JsonValue[];
}

async function verify(
  ctx: ServerContext,
  request: FastifyRequest,
  session: Session,
  message: JsonValue,
): Promise<Verified | Extract<Verdict, { ok: false }>> {
  const input = { request: session.request, implicitDisclosure: session.implicitDisclosure, message, now: ctx.clock() };
  let outcome: SessionOutcome;
  let sigs: JsonValue[] | undefined;
  try {
    switch (session.action) {
      case 'disclosing': {
        const r = await ctx.checker.disclosure(input);
        outcome = { proofStatus: r.proofStatus, disclosed: r.disclosed };
        break;
      }
      case 'signing': {
        const r = await ctx.checker.signature(input);
        outcome = { proofStatus: r.proofStatus, disclosed: r.disclosed, signature: r.signature };
        break;
      }
      case 'issuing': {
        const r = await ctx.checker.issuance(input);
        outcome = { proofStatus: r.proofStatus, disclosed: r.disclosed };
        sigs = r.sigs;
        break;
      }
    }
  } catch (err) {
    // Capacity and infrastructure failures (a full crypto queue, a crashed worker) say nothing about
    // the proofs: answer the error and leave the session as it was, so the app can retry.
    if (err instanceof ProtocolError && (err.type === 'TOO_MANY_REQUESTS' || err.type === 'INTERNAL_ERROR')) throw err;
    const known = err instanceof ProtocolError ? err : asProtocolError(err);
    const pe = known.type === 'INTERNAL_ERROR' ? new ProtocolError('EXCEPTION') : known;
    if (pe.type === 'EXCEPTION') request.log.error({ err: { name: (err as Error)?.name } }, 'proof verification failed unexpectedly');
    return { ok: false, failure: pe.message ? { type: pe.type, message: pe.message } : { type: pe.type }, cancels: true };
  }
  return { outcome, sigs };
}

export async function handleClientPost(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  endpoint: '/proofs' | '/commitments',
): Promise<FastifyReply> {
  const call = clientCall(request, endpoint);
  const refused = precheckClientPost(session, call, machineContext(ctx));
  if (refused) return sendMachineReply(reply, refused.reply, true);
  if ((endpoint === '/commitments') !== (session.action === 'issuing')) {
    throw new ProtocolError('INVALID_REQUEST', `${endpoint.slice(1)} not expected in a ${session.action} session`);
  }
  const message = parseMessage(call.message, session);
  const verified = await verify(ctx, request, session, message);
  let verdict: Verdict;
  if ('ok' in verified) {
    verdict = verified;
  } else {
    let outcome = verified.outcome;
    let next: NextSession | undefined;
    try {
      if (session.nextSessionUrl) next = await startNextSession(ctx, session, outcome);
      if (next) outcome = { ...outcome, nextSession: next.requestorToken };
      const version = parseProtocolVersion(session.protocolVersion ?? '2.8');
      const response = serverSessionResponseToJson(
        { proofStatus: outcome.proofStatus ?? 'VALID', sigs: verified.sigs, nextSession: next?.qr as SessionPointer | undefined },
        version,
        session.action,
      );
      verdict = { ok: true, outcome, response: response as JsonValue, next: next?.qr };
    } catch (err) {
      return sendError(reply, asProtocolError(err));
    }
  }

  const { transition } = await transact(ctx, session.clientToken, (s, m) =>
    commitClientPost(s, { ...call, nonce: session.nonce, verdict }, m),
  );
  return sendMachineReply(reply, transition.reply, true);
}
