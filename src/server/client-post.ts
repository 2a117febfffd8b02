// POST /irma/session/{ct}/proofs and /commitments (spec §5.4): parse, claim the request in the
// store, verify outside the store, start a chained session if asked, then commit the outcome with
// a compare-and-set while the claim stands. The claim makes the work happen once across processes.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IdemixError } from '../idemix/errors.js';
import { parseProofList } from '../idemix/proofs.js';
import { ProtocolError } from '../protocol/errors.js';
import { parseClientJson } from '../protocol/client-json.js';
import { parseProtocolVersion } from '../protocol/versions.js';
import { serverSessionResponseToJson } from '../protocol/messages.js';
import { parseDisclosure, parseIssueCommitmentMessage, parseSignedMessage } from '../protocol/proof-messages.js';
import type { SessionPointer } from '../protocol/session-start.js';
import {
  claimClientPost,
  commitClientPost,
  precheckClientPost,
  releaseClaim,
  renewClaim,
  type ClaimEvent,
  type ClaimTransition,
  type Verdict,
} from '../session/machine.js';
import type { Claim, JsonValue, Session, SessionOutcome } from '../session/session.js';
import { randomAlphanumeric, TOKEN_LENGTH } from '../session/tokens.js';
import { startNextSession, type NextSession } from './chaining.js';
import { clientCall } from './request-parts.js';
import type { ServerContext } from './context.js';
import { CryptoRefusal } from './crypto-refusal.js';
import { asProtocolError, sendError } from './http-errors.js';
import { sendMachineReply } from './replies.js';
import { OUTBOUND_TIMEOUT_MS } from './outbound.js';
import { DEFAULT_CALL_TIMEOUT_MS } from './proof-workers.js';
import { load, machineContext, transact } from './session-runner.js';
import { issueSdJwts, sdJwtHolderKeys } from './sdjwt-issuance.js';
import type { HolderJwk } from '../sdjwt/holder-key.js';
import { prepareRevocableIssuance } from './revocation-issuance.js';

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
    message = parseClientJson(body);
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
  sdjwts?: string[];
}

async function verify(
  ctx: ServerContext,
  request: FastifyRequest,
  session: Session,
  message: JsonValue,
  messageText: string,
  holderKeys: HolderJwk[] | undefined,
): Promise<Verified | Extract<Verdict, { ok: false }>> {
  const input = { request: session.request, implicitDisclosure: session.implicitDisclosure, message, messageText, now: ctx.clock() };
  let outcome: SessionOutcome;
  let sigs: JsonValue[] | undefined;
  let sdjwts: string[] | undefined;
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
        // Witnesses need the revocation state (I/O), so they are made here, not in the checker;
        // the issuance records are stored (or sent to the authority) before the signatures leave.
        const revocable = await prepareRevocableIssuance(ctx, session.request, input.now);
        const r = await ctx.checker.issuance(Object.assign({}, input, { witnesses: revocable.witnesses }));
        await revocable.record();
        outcome = { proofStatus: r.proofStatus, disclosed: r.disclosed };
        sigs = r.sigs;
        if (holderKeys) sdjwts = await issueSdJwts(ctx, session, holderKeys, input.now);
        break;
      }
    }
  } catch (err) {
    // Capacity and infrastructure failures (a full crypto queue, a crashed worker) say nothing about
    // the proofs: answer the error and leave the session as it was, so the app can retry.
    if (err instanceof CryptoRefusal) throw err;
    if (err instanceof ProtocolError && (err.type === 'TOO_MANY_REQUESTS' || err.type === 'INTERNAL_ERROR')) throw err;
    const known = err instanceof ProtocolError ? err : asProtocolError(err);
    const pe = known.type === 'INTERNAL_ERROR' ? new ProtocolError('EXCEPTION') : known;
    if (pe.type === 'EXCEPTION') request.log.error({ err: { name: (err as Error)?.name } }, 'proof verification failed unexpectedly');
    return { ok: false, failure: pe.message ? { type: pe.type, message: pe.message } : { type: pe.type }, cancels: true };
  }
  return { outcome, sigs, sdjwts };
}

/** Verification may queue for a crypto worker and run up to its call timeout. */
const VERIFY_CLAIM_MS = DEFAULT_CALL_TIMEOUT_MS + 10_000;
/** The next-session call, then starting that session in the store. */
const CHAIN_CLAIM_MS = OUTBOUND_TIMEOUT_MS + 10_000;
/** Claims lost to dead or slow processes before the app is told to retry later. */
const MAX_ATTEMPTS = 4;

function requestDigest(endpoint: string, body: string): string {
  return createHash('sha256').update(endpoint).update('\0').update(body).digest('base64url');
}

/** How often a process waiting for another's claim checks that the claimant's process still lives. */
const LIVENESS_POLL_MS = 200;

/** The process holding the session's live claim, if it is another one and it is dead. */
async function deadClaimant(ctx: ServerContext, session: Session): Promise<string | undefined> {
  const claim = session.claim;
  if (!claim?.process || claim.process === ctx.liveness.id || claim.until <= ctx.clock()) return undefined;
  return (await ctx.liveness.isAlive(claim.process)) ? undefined : claim.process;
}

/**
 * Resolves once the session's claim is no longer `claim`, when that claim expires, or when the
 * process holding it is found dead (so a crash costs the app's retry a second or two, not the
 * claim's lifetime).
 */
async function claimEnded(ctx: ServerContext, clientToken: string, claim: Claim): Promise<void> {
  const same = (s: Session | undefined) => s?.claim?.claimant === claim.claimant;
  let wake!: () => void;
  const changed = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = await ctx.store.subscribe(clientToken, (s) => {
    if (!same(s)) wake();
  });
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  let waiting = true;
  try {
    // A change committed before the subscription was active is only seen by reading again.
    if (!same(await ctx.store.get(clientToken))) return;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(claim.until - ctx.clock(), 0) + 50)));
    const died = new Promise<void>((resolve) => {
      const holder = claim.process;
      if (!holder || holder === ctx.liveness.id) return;
      const check = () => {
        poll = setTimeout(async () => {
          if (!waiting) return;
          if (await ctx.liveness.isAlive(holder)) {
            if (waiting) check();
          } else resolve();
        }, LIVENESS_POLL_MS);
      };
      check();
    });
    await Promise.race([changed, expired, died]);
  } finally {
    waiting = false;
    clearTimeout(timer);
    clearTimeout(poll);
    await unsubscribe();
  }
}

/** Verification, then the chained session if any: the answer to commit. */
async function decide(
  ctx: ServerContext,
  request: FastifyRequest,
  session: Session,
  message: JsonValue,
  messageText: string,
  claim: ClaimEvent,
  holderKeys: HolderJwk[] | undefined,
): Promise<Verdict | ClaimTransition> {
  const verified = await verify(ctx, request, session, message, messageText, holderKeys);
  if ('ok' in verified) return verified;
  let outcome = verified.outcome;
  let next: NextSession | undefined;
  if (session.nextSessionUrl) {
    // The claim must outlive the outbound call, or another process could take it over and post
    // to the requestor a second time.
    const { transition } = await transact(ctx, session.clientToken, (s, m) =>
      renewClaim(s, { ...claim, lifetimeMs: CHAIN_CLAIM_MS }, m),
    );
    if (!transition.held) return transition;
    // Past this point the requestor hears of the session: only while no other process can have
    // presumed this one dead and taken the claim over.
    if (!ctx.liveness.confirmed()) throw new ProtocolError('INTERNAL_ERROR', 'process liveness not confirmed');
    next = await startNextSession(ctx, session, outcome);
  }
  if (next) outcome = Object.assign({}, outcome, { nextSession: next.requestorToken });
  const version = parseProtocolVersion(session.protocolVersion ?? '2.8');
  const response = serverSessionResponseToJson(
    { proofStatus: outcome.proofStatus ?? 'VALID', sigs: verified.sigs, sdjwts: verified.sdjwts, nextSession: next?.qr as SessionPointer | undefined },
    version,
    session.action,
  );
  return { ok: true, outcome, response: response as JsonValue, next: next?.qr };
}

/**
 * An attempt's answer has been sent. (Not the reply itself: a FastifyReply is thenable, so an
 * async function returning it resolves to undefined once the response is out.)
 */
const SENT = 'sent';

/** Another process had the request: wait for `busy` to end, if given, then try again. */
interface Retry {
  retry: true;
  busy?: Claim;
}

/** One attempt: claim, verify, commit. */
async function attempt(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  endpoint: '/proofs' | '/commitments',
): Promise<typeof SENT | Retry> {
  const call = clientCall(request, endpoint);
  const refused = precheckClientPost(session, call, machineContext(ctx));
  if (refused) {
    sendMachineReply(reply, refused.reply, true);
    return SENT;
  }
  if ((endpoint === '/commitments') !== (session.action === 'issuing')) {
    throw new ProtocolError('INVALID_REQUEST', `${endpoint.slice(1)} not expected in a ${session.action} session`);
  }
  const message = parseMessage(call.message, session);
  const holderKeys = sdJwtHolderKeys(ctx, session, message);
  const ct = session.clientToken;
  const claim: ClaimEvent = Object.assign({}, call, {
    claimant: randomAlphanumeric(TOKEN_LENGTH),
    request: requestDigest(endpoint, call.message),
    lifetimeMs: VERIFY_CLAIM_MS,
    process: ctx.liveness.id,
  });
  const deadProcess = await deadClaimant(ctx, session);
  const claimed = (await transact(ctx, ct, (s, m) => claimClientPost(s, Object.assign({}, claim, { deadProcess }), m))).transition;
  if (claimed.retry) return { retry: true, ...claimed.retry };
  if (!claimed.held) {
    sendMachineReply(reply, claimed.reply, true);
    return SENT;
  }

  let settled = false;
  try {
    let decided: Verdict | ClaimTransition;
    try {
      decided = await decide(ctx, request, session, message, call.message, claim, holderKeys);
    } catch (err) {
      if (err instanceof ProtocolError && err.type === 'NEXT_SESSION') {
        sendError(reply, err);
        return SENT;
      }
      throw err;
    }
    if ('held' in decided) {
      if (decided.retry) return { retry: true, ...decided.retry };
      settled = true;
      sendMachineReply(reply, decided.reply, true);
      return SENT;
    }
    const verdict = decided;
    const committed = (
      await transact(ctx, ct, (s, m) => commitClientPost(s, Object.assign({}, call, { nonce: session.nonce, claimant: claim.claimant, verdict }), m))
    ).transition;
    settled = true;
    if (committed.retry) return { retry: true, ...committed.retry };
    sendMachineReply(reply, committed.reply, true);
    return SENT;
  } finally {
    // Failed without ending the session (NEXT_SESSION, capacity, the store): let the next try in.
    if (!settled) {
      await transact(ctx, ct, (s, m) => releaseClaim(s, claim, m)).catch((err: unknown) => {
        request.log.warn({ err: { name: (err as Error)?.name } }, 'could not release the claim on a POST');
      });
    }
  }
}

export async function handleClientPost(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  endpoint: '/proofs' | '/commitments',
): Promise<FastifyReply> {
  let current = session;
  for (let n = 1; ; n++) {
    const outcome = await attempt(ctx, request, reply, current, endpoint);
    if (outcome === SENT) return reply;
    if (n === MAX_ATTEMPTS) throw new ProtocolError('TOO_MANY_REQUESTS', 'session busy, try again');
    // Another process handles this very request: its answer lands in the replay cache, where
    // the next attempt finds it like any retry would.
    if (outcome.busy) await claimEnded(ctx, current.clientToken, outcome.busy);
    current = await load(ctx, current.clientToken);
  }
}
