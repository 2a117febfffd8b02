// A bound on the bytes one session may occupy in the store. Request and message sizes already
// bound what goes in; this bounds what piles up (request, app request, proofs, result, replay
// cache), so a few large sessions cannot take the process's memory or Redis with them.
import { ProtocolError } from '../protocol/errors.js';
import type { Session } from '../session/session.js';
import type { Mutation, SessionStore } from '../store/store.js';
import { jsonBytes } from './json-size.js';

function sizeError(session: Session, maxBytes: number): ProtocolError | undefined {
  const bytes = jsonBytes(session as unknown as Record<string, unknown>);
  if (bytes <= maxBytes) return undefined;
  return new ProtocolError('INVALID_REQUEST', `session state of ${bytes} bytes exceeds max_session_size (${maxBytes})`);
}

/** `store` refusing to write a session larger than `maxBytes` (0 = no limit); the session stays as it was. */
export function boundSessionSize(store: SessionStore<Session>, maxBytes: number): SessionStore<Session> {
  if (maxBytes <= 0) return store;
  return {
    create(value, ttlMs) {
      // Not frozen here: the memory store freezes a new session while sharing its parts with
      // other sessions, and those shared frozen parts are measured once for all of them.
      const tooLarge = sizeError(value, maxBytes);
      return tooLarge ? Promise.reject(tooLarge) : store.create(value, ttlMs);
    },
    get: (ct) => store.get(ct),
    clientTokenOf: (rt) => store.clientTokenOf(rt),
    // An oversized write becomes "write nothing" for the store (an exception thrown from a mutation
    // would read as a store failure), and the error reaches the caller once the store is done.
    async update<R>(ct: string, mutate: Mutation<Session, R>) {
      let tooLarge: ProtocolError | undefined;
      const result = await store.update(ct, (current) => {
        const outcome = mutate(current);
        tooLarge = outcome.value === undefined ? undefined : sizeError(outcome.value, maxBytes);
        return tooLarge ? { result: outcome.result } : outcome;
      });
      if (tooLarge) throw tooLarge;
      return result;
    },
    subscribe: (ct, listener) => store.subscribe(ct, listener),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
