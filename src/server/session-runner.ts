// Runs state-machine transitions through the store: the pure step decides, the store's
// compare-and-set commits, and only the committed attempt's effects are carried out.
import { touch, type MachineContext, type Transition } from '../session/machine.js';
import { isOverdue, retention } from '../session/lifetimes.js';
import { isFinal, type Session } from '../session/session.js';
import { ProtocolError } from '../protocol/errors.js';
import { StoreError, UnconfirmedWriteError } from '../store/store.js';
import type { ServerContext } from './context.js';
import { post, resultBody } from './outbound.js';

/** A write keeps the record at least this long, so a just-noticed TIMEOUT is still readable. */
const MIN_TTL_MS = 1000;

export interface Committed<T extends Transition = Transition> {
  transition: T;
  /** The session after the step (as written, or as read when nothing changed). */
  session: Session;
}

export function machineContext(ctx: ServerContext): MachineContext {
  return { now: ctx.clock(), lifetimes: ctx.lifetimes };
}

export async function transact<T extends Transition>(
  ctx: ServerContext,
  clientToken: string,
  step: (session: Session, mctx: MachineContext) => T,
): Promise<Committed<T>> {
  const mctx = machineContext(ctx);
  let committed: Committed<T>;
  try {
    committed = await ctx.store.update<Committed<T>>(clientToken, (current) => {
      const transition = step(current, mctx);
      const session = transition.session ?? current;
      if (!transition.session) return { result: { transition, session } };
      const ttlMs = Math.max(retention(session, ctx.lifetimes, mctx.now), MIN_TTL_MS);
      // A finished session's result and its exactly-once effects must survive a Redis failover,
      // and so must a claim, or a second process could claim the same POST after the failover.
      const durable = transition.durable === true || transition.effects.some((e) => e.kind === 'finished');
      return { value: session, ttlMs, durable, result: { transition, session } };
    });
  } catch (err) {
    if (!(err instanceof UnconfirmedWriteError)) throw err;
    // The session did finish (every process now sees it so): telling the client it failed would
    // be false, and a retry would only meet the replay cache. Carry on, and say so in the log.
    ctx.log.warn({ reason: err.message }, 'session change committed but not acknowledged by enough Redis replicas');
    committed = err.result as Committed<T>;
  }
  for (const effect of committed.transition.effects) {
    if (effect.kind === 'finished') onFinished(ctx, effect.session);
  }
  if (!isFinal(committed.session.status)) ctx.deadlines.watch(committed.session);
  return committed;
}

/** The client token of a requestor token, or SESSION_UNKNOWN. */
export async function clientTokenOf(ctx: ServerContext, requestorToken: string): Promise<string> {
  const ct = await ctx.store.clientTokenOf(requestorToken);
  if (ct === undefined) throw new ProtocolError('SESSION_UNKNOWN');
  return ct;
}

/** The current session, with an overdue timeout committed first (once, with its callback). */
export async function load(ctx: ServerContext, clientToken: string): Promise<Session> {
  const session = await ctx.store.get(clientToken);
  if (session === undefined) throw new ProtocolError('SESSION_UNKNOWN');
  if (!isOverdue(session, ctx.lifetimes, ctx.clock())) return session;
  try {
    return (await transact(ctx, clientToken, touch)).session;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'SESSION_UNKNOWN') throw new ProtocolError('SESSION_UNKNOWN');
    throw err;
  }
}

/** The session ended: the requestor's callback, once, without holding up the request. */
function onFinished(ctx: ServerContext, session: Session): void {
  ctx.deadlines.forget(session.clientToken);
  const url = session.callbackUrl;
  if (!url) return;
  void (async () => {
    try {
      const payload = await resultBody(session, ctx.signer, ctx.clock());
      await post(url, payload);
    } catch (err) {
      ctx.log.warn({ err: { name: (err as Error)?.name, code: (err as { code?: unknown })?.code } }, 'session callback failed');
    }
  })();
}
