// The session state machine (spec §5, §6): pure functions (session, event, context) -> transition.
// No I/O, no clock reads, no randomness: the caller passes `now` and any fresh secrets, persists
// `session` through the store's compare-and-set, and performs `effects` only when its attempt
// committed. Errors are named after the protocol's error table; the server renders them.
import type { ErrorType } from '../protocol/errors.js';
import { sameSecret } from './tokens.js';
import { isOverdue, deadline, type Lifetimes } from './lifetimes.js';
import {
  isFinal,
  type Claim,
  type Failure,
  type JsonObject,
  type JsonValue,
  type Qr,
  type ReplayEntry,
  type Session,
  type SessionOutcome,
  type SessionStatus,
} from './session.js';
import {
  compareVersions,
  formatVersion,
  negotiateVersion,
  parseProtocolVersion,
  type NegotiationOptions,
  type ProtocolVersion,
} from '../protocol/versions.js';

export interface MachineContext {
  now: number;
  lifetimes: Lifetimes;
}

export type Reply =
  /** `body` is serialised JSON; undefined means an empty body. */
  | { kind: 'ok'; status: number; body?: string }
  | { kind: 'fail'; failure: Failure };

/** The session ended (DONE, CANCELLED or TIMEOUT): the requestor's callback is due. */
export interface FinishedEffect {
  kind: 'finished';
  session: Session;
}
export type Effect = FinishedEffect;

export interface Transition {
  /** The next session, or undefined when nothing changed (nothing to write). */
  session?: Session;
  reply: Reply;
  effects: Effect[];
  /** The write guards work outside the store (a claim), so it must survive a failover too. */
  durable?: boolean;
}

/** A client request as the replay cache sees it. */
export interface ClientCall {
  /** Path after /irma/session/{ct}: "" for the connect GET, "/request", "/proofs", "/commitments". */
  endpoint: string;
  /** Request body (UTF-8). */
  message: string;
  /** The Authorization header, if any. */
  authorization?: string;
}

const REPLAY_WINDOW_MS = 10_000;
const CLIENT_CONTEXT = 'https://irma.app/ld/request/client/v1';
const OPTIONS_CONTEXT = 'https://irma.app/ld/options/v1';
const VERSION_WITH_WRAPPER: ProtocolVersion = { major: 2, minor: 8 };

const ok = (status: number, body?: string): Reply => ({ kind: 'ok', status, body });
const fail = (type: ErrorType, message?: string): Reply => ({
  kind: 'fail',
  failure: message === undefined ? { type } : { type, message },
});

/** The working copy of one transition: what changed, and whether the session just ended. */
class Draft {
  private current: Session;
  private changed = false;
  private finished = false;
  constructor(original: Session) {
    this.current = original;
  }
  get session(): Session {
    return this.current;
  }
  set(patch: Partial<Session>): void {
    const previous = this.current.status;
    // Not a spread: on Node 20's V8, members a spread copy's source lacked (most patches add some)
    // are added through a slow path, ~2 µs each.
    this.current = Object.assign({}, this.current, patch);
    this.changed = true;
    if (!isFinal(previous) && isFinal(this.current.status)) this.finished = true;
    // A finished session has no POST left to handle: a claim on it would only linger.
    if (isFinal(this.current.status) && this.current.claim) this.current = { ...this.current, claim: undefined };
  }
  done(reply: Reply): Transition {
    if (!this.changed) return { reply, effects: [] };
    const session = this.current;
    return { session, reply, effects: this.finished ? [{ kind: 'finished', session }] : [] };
  }
}

/** Lazy timeout (§6.2): an overdue session becomes TIMEOUT, once, as of its deadline. */
function expire(draft: Draft, ctx: MachineContext): void {
  const s = draft.session;
  if (!isOverdue(s, ctx.lifetimes, ctx.now)) return;
  draft.set({ status: 'TIMEOUT', lastActive: deadline(s, ctx.lifetimes) ?? ctx.now, replay: undefined });
}

function cancelWith(draft: Draft, ctx: MachineContext, failure: Failure): Reply {
  draft.set({ status: 'CANCELLED', lastActive: ctx.now, outcome: { error: failure } });
  return { kind: 'fail', failure };
}

function replayOf(s: Session, call: ClientCall, now: number): Reply | undefined {
  const r = s.replay;
  if (!r || r.response === '') return undefined;
  if (r.endpoint !== call.endpoint || r.message !== call.message) return undefined;
  if (r.sessionStatus !== s.status || now - s.lastActive > REPLAY_WINDOW_MS) return undefined;
  // Unlike the reference we also require the app's Authorization: a stored answer (the request,
  // issued signatures) is only ever repeated to the app that caused it.
  if (s.clientAuth !== undefined && !sameSecret(call.authorization ?? '', s.clientAuth)) return undefined;
  return ok(r.responseStatus, r.response);
}

function remember(draft: Draft, call: ClientCall, reply: Reply): Reply {
  if (reply.kind !== 'ok' || reply.body === undefined) return reply;
  const entry: ReplayEntry = {
    endpoint: call.endpoint,
    message: call.message,
    responseStatus: reply.status,
    response: reply.body,
    sessionStatus: draft.session.status,
  };
  draft.set({ replay: entry });
  return reply;
}

function clientRequestFor(s: Session): Record<string, JsonValue> {
  return { ...s.clientRequest, protocolVersion: s.protocolVersion ?? formatVersion(VERSION_WITH_WRAPPER) };
}

function usesWrapper(s: Session): boolean {
  return compareVersions(parseProtocolVersion(s.protocolVersion ?? '2.8'), VERSION_WITH_WRAPPER) >= 0;
}

function optionsJson(s: Session): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = { '@context': OPTIONS_CONTEXT, pairingMethod: s.options.pairingMethod };
  if (s.options.pairingCode !== undefined) out.pairingCode = s.options.pairingCode;
  return out;
}

/** Any event that only needs the lazy timeout applied (reads of status, result, ...). */
export function touch(session: Session, ctx: MachineContext): Transition {
  const draft = new Draft(session);
  expire(draft, ctx);
  return draft.done(ok(200));
}

export interface ConnectEvent extends ClientCall {
  minVersion: ProtocolVersion;
  maxVersion: ProtocolVersion;
  negotiation: NegotiationOptions;
  /**
   * For a request with `revocation`: the latest updates per credential type (JSON keyed by key
   * counter) and the tolerance the verifier will apply, fetched before the transition; or why
   * none could be had (the session is then cancelled with REVOCATION).
   */
  revocation?: { updates: Record<string, JsonObject>; tolerances: Record<string, number> } | { error: string };
}

/** Puts the updates into the stored request (with the tolerance applied) and into the app's copy. */
function withRevocationUpdates(
  request: JsonObject,
  updates: Record<string, JsonObject>,
  tolerances: Record<string, number> | undefined,
): JsonObject {
  const revocation = request.revocation;
  if (typeof revocation !== 'object' || revocation === null || Array.isArray(revocation)) return request;
  const out: JsonObject = {};
  for (const [type, params] of Object.entries(revocation)) {
    const p: JsonObject = typeof params === 'object' && params !== null && !Array.isArray(params) ? Object.assign({}, params) : {};
    if (updates[type] !== undefined) p.updates = updates[type];
    if (tolerances?.[type] !== undefined) p.tolerance = tolerances[type];
    out[type] = p;
  }
  return { ...request, revocation: out };
}

/** GET /irma/session/{ct}: the app connects and negotiates the protocol version (§5.2). */
export function connect(session: Session, event: ConnectEvent, ctx: MachineContext): Transition {
  const draft = new Draft(session);
  expire(draft, ctx);
  const replay = replayOf(draft.session, event, ctx.now);
  if (replay) return draft.done(replay);
  if (draft.session.status !== 'INITIALIZED') {
    return draft.done(fail('UNEXPECTED_REQUEST', 'Session already started'));
  }
  draft.set({ lastActive: ctx.now });
  let chosen: ProtocolVersion;
  try {
    chosen = negotiateVersion(event.minVersion, event.maxVersion, event.negotiation);
  } catch {
    return draft.done(cancelWith(draft, ctx, { type: 'PROTOCOL_VERSION' }));
  }
  const wrapped = compareVersions(chosen, VERSION_WITH_WRAPPER) >= 0;
  if (wrapped && !event.authorization) {
    return draft.done(cancelWith(draft, ctx, { type: 'UNAUTHORIZED', message: 'No authorization header provided' }));
  }
  const rev = event.revocation;
  if (rev && 'error' in rev) {
    return draft.done(cancelWith(draft, ctx, { type: 'REVOCATION', message: rev.error }));
  }
  if (rev) {
    draft.set({
      request: withRevocationUpdates(draft.session.request, rev.updates, rev.tolerances),
      clientRequest: withRevocationUpdates(draft.session.clientRequest, rev.updates, undefined),
    });
  }
  const pairing = draft.session.options.pairingMethod !== 'none';
  const status: SessionStatus = pairing ? 'PAIRING' : 'CONNECTED';
  draft.set({
    protocolVersion: formatVersion(chosen),
    clientAuth: wrapped ? event.authorization : undefined,
    status,
  });
  const s = draft.session;
  let body: JsonValue;
  if (!wrapped) {
    body = clientRequestFor(s);
  } else {
    const wrapper: Record<string, JsonValue> = {
      '@context': CLIENT_CONTEXT,
      protocolVersion: s.protocolVersion!,
      options: optionsJson(s),
    };
    if (!pairing) wrapper.request = clientRequestFor(s);
    body = wrapper;
  }
  return draft.done(remember(draft, event, ok(200, JSON.stringify(body))));
}

/**
 * The guards shared by GET /request and the POSTs (§5.1 step 5): replay first, then status and
 * the app's Authorization. Returns the reply to send instead of handling, if any.
 */
function clientGuard(s: Session, call: ClientCall, now: number): Reply | undefined {
  const replay = replayOf(s, call, now);
  if (replay) return replay;
  if (s.status === 'PAIRING') return fail('PAIRING_REQUIRED');
  if (s.status !== 'CONNECTED') return fail('UNEXPECTED_REQUEST', 'Session not yet started or already finished');
  if (s.clientAuth !== undefined && !sameSecret(call.authorization ?? '', s.clientAuth)) return fail('UNAUTHORIZED');
  return undefined;
}

/** GET /irma/session/{ct}/request: the bare request, after pairing (§5.3). */
export function getRequest(session: Session, call: ClientCall, ctx: MachineContext): Transition {
  const draft = new Draft(session);
  expire(draft, ctx);
  const refused = clientGuard(draft.session, call, ctx.now);
  if (refused) return draft.done(refused);
  if (!usesWrapper(draft.session)) {
    return draft.done(fail('UNEXPECTED_REQUEST', 'Endpoint is not support in used protocol version'));
  }
  return draft.done(remember(draft, call, ok(200, JSON.stringify(clientRequestFor(draft.session)))));
}

/**
 * Checks, on a read copy, whether a POST of proofs or commitments may be handled at all, before
 * the caller spends time on cryptography. A reply means: answer this and stop.
 */
export function precheckClientPost(session: Session, call: ClientCall, ctx: MachineContext): Transition | undefined {
  const draft = new Draft(session);
  expire(draft, ctx);
  const refused = clientGuard(draft.session, call, ctx.now);
  return refused ? draft.done(refused) : undefined;
}

/** What the verification (done outside the store update) concluded. */
export type Verdict =
  | {
      ok: true;
      outcome: SessionOutcome;
      /** The ServerSessionResponse (or its pre-2.7 form) for the app. */
      response: JsonValue;
      /** Pointer of the chained session, when one was started. */
      next?: Qr;
    }
  | { ok: false; failure: Failure; cancels: boolean };

/** A transition of the claim on the app's POST; `reply` is the answer only when neither held nor retried. */
export interface ClaimTransition extends Transition {
  /** This attempt holds the claim (now or still) and may go on. */
  held: boolean;
  /**
   * This attempt does not hold the claim but the session still waits for this request: wait
   * for `busy` (another process's live claim on the same request) to end, if given, then retry.
   */
  retry?: { busy?: Claim };
}

/**
 * `transition` (a fresh object from Draft.done) with the claim's fate. Set on it rather than
 * spread into a copy: on Node 20's V8, members added to a spread copy take a slow path.
 */
function claimOutcome(transition: Transition, held: boolean, more?: Pick<ClaimTransition, 'retry' | 'durable'>): ClaimTransition {
  return Object.assign(transition, { held }, more);
}

export interface ClaimEvent extends ClientCall {
  /** Random id of this attempt. */
  claimant: string;
  /** Digest of endpoint and body (see Claim.request). */
  request: string;
  /** How long the claim lives, from `now`. */
  lifetimeMs: number;
  /** Id of the server process making this attempt (see Claim.process). */
  process?: string;
  /** A process the server found dead: a claim it holds is taken over at once. */
  deadProcess?: string;
}

const isLive = (claim: Claim | undefined, now: number): claim is Claim => claim !== undefined && now < claim.until;
const heldByDead = (claim: Claim, deadProcess: string | undefined): boolean =>
  deadProcess !== undefined && claim.process === deadProcess;
const holds = (s: Session, claimant: string): boolean => s.claim?.claimant === claimant;

/** Another attempt's claim: the same request waits for it, any other request is unexpected. */
function claimedByOther(draft: Draft, claim: Claim, request: string): ClaimTransition {
  if (claim.request === request) return claimOutcome(draft.done(ok(202)), false, { retry: { busy: claim } });
  return claimOutcome(draft.done(fail('UNEXPECTED_REQUEST', 'Session is already handling another request')), false);
}

/**
 * Claims the app's POST before any cryptography (§5.4): the first attempt on a CONNECTED session
 * without a live claim gets it; an identical request meanwhile waits for the claimant's answer.
 * A claim past its `until` belongs to a claimant presumed dead and is taken over, and so does one
 * whose process the server found dead.
 */
export function claimClientPost(session: Session, event: ClaimEvent, ctx: MachineContext): ClaimTransition {
  const draft = new Draft(session);
  expire(draft, ctx);
  const refused = clientGuard(draft.session, event, ctx.now);
  if (refused) return claimOutcome(draft.done(refused), false);
  const current = draft.session.claim;
  if (isLive(current, ctx.now) && current.claimant !== event.claimant && !heldByDead(current, event.deadProcess)) {
    return claimedByOther(draft, current, event.request);
  }
  const claim: Claim = { claimant: event.claimant, until: ctx.now + event.lifetimeMs, request: event.request };
  if (event.process !== undefined) claim.process = event.process;
  draft.set({ claim });
  return claimOutcome(draft.done(ok(202)), true, { durable: true });
}

/**
 * Extends a held claim before a slow step (the next-session call), so it outlives that step's own
 * deadline. A claim lost meanwhile (taken over after its `until`) is not renewed.
 */
export function renewClaim(session: Session, event: ClaimEvent, ctx: MachineContext): ClaimTransition {
  return claimClientPost(session, event, ctx);
}

/** Gives up a held claim without an answer (the attempt failed but the session goes on). */
export function releaseClaim(session: Session, event: { claimant: string }, ctx: MachineContext): Transition {
  const draft = new Draft(session);
  if (holds(draft.session, event.claimant)) draft.set({ claim: undefined });
  return draft.done(ok(200));
}

export interface ClientPostEvent extends ClientCall {
  /** The nonce the proofs were verified against. */
  nonce: string;
  /** The attempt that claimed the request; only its answer may be committed. */
  claimant: string;
  verdict: Verdict;
}

/**
 * Commits the verified answer to POST /proofs or /commitments (§5.4), if the claim still stands.
 * If the session moved on meanwhile (a cancel, a timeout), the answer is what a retry or an
 * unexpected request would get; a lost claim means another attempt answers, so retry.
 */
export function commitClientPost(session: Session, event: ClientPostEvent, ctx: MachineContext): ClaimTransition {
  const draft = new Draft(session);
  expire(draft, ctx);
  const refused = clientGuard(draft.session, event, ctx.now);
  if (refused) return claimOutcome(draft.done(refused), false);
  if (draft.session.nonce !== event.nonce) {
    return claimOutcome(draft.done(fail('UNEXPECTED_REQUEST', 'Session not yet started or already finished')), false);
  }
  if (!holds(draft.session, event.claimant)) {
    const other = draft.session.claim;
    return claimOutcome(draft.done(ok(202)), false, { retry: { busy: isLive(other, ctx.now) ? other : undefined } });
  }
  draft.set({ claim: undefined });
  const verdict = event.verdict;
  if (!verdict.ok) {
    if (!verdict.cancels) return claimOutcome(draft.done({ kind: 'fail', failure: verdict.failure }), true);
    return claimOutcome(draft.done(cancelWith(draft, ctx, verdict.failure)), true);
  }
  draft.set({ status: 'DONE', lastActive: ctx.now, outcome: verdict.outcome, next: verdict.next });
  return claimOutcome(draft.done(remember(draft, event, ok(200, JSON.stringify(verdict.response)))), true);
}

/** DELETE by requestor, app or frontend: unfinished sessions become CANCELLED (§3.3). */
export function cancel(session: Session, ctx: MachineContext): Transition {
  const draft = new Draft(session);
  expire(draft, ctx);
  if (!isFinal(draft.session.status)) {
    draft.set({ status: 'CANCELLED', lastActive: ctx.now, outcome: {}, replay: undefined });
  }
  return draft.done(ok(200));
}

export interface FrontendOptionsEvent {
  /** "pin", "none", "" (keep) or anything else (refused). */
  pairingMethod: string;
  /** A fresh code, used when the method is "pin". */
  pairingCode: string;
}

/** POST …/frontend/options (§5.6). */
export function setFrontendOptions(session: Session, event: FrontendOptionsEvent, ctx: MachineContext): Transition {
  const draft = new Draft(session);
  expire(draft, ctx);
  if (draft.session.status !== 'INITIALIZED') {
    return draft.done(
      fail('UNEXPECTED_REQUEST', 'Frontend options can only be updated when session is in initialized state'),
    );
  }
  switch (event.pairingMethod) {
    case 'pin':
      draft.set({ options: { pairingMethod: 'pin', pairingCode: event.pairingCode } });
      break;
    case 'none':
      draft.set({ options: { pairingMethod: 'none' } });
      break;
    case '':
      break;
    default:
      return draft.done(fail('UNEXPECTED_REQUEST', 'Pairing method unknown'));
  }
  return draft.done(ok(200, JSON.stringify(optionsJson(draft.session))));
}

/** POST …/frontend/pairingcompleted: the user typed the right code in the frontend. */
export function completePairing(session: Session, ctx: MachineContext): Transition {
  const draft = new Draft(session);
  expire(draft, ctx);
  if (draft.session.status !== 'PAIRING') return draft.done(fail('UNEXPECTED_REQUEST', 'Pairing was not enabled'));
  draft.set({ status: 'CONNECTED' });
  return draft.done(ok(204));
}
