// Rules every store applies to a write, so memory and Redis reject the same mistakes.

import type { StoredSession } from './store.js';

/** A write must keep the session alive for a positive time. */
export function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError('session ttl is in the past');
  }
}

/** The tokens are the keys, so a mutation may not change them. */
export function checkTokensKept(before: StoredSession, after: StoredSession): void {
  if (before.clientToken !== after.clientToken || before.requestorToken !== after.requestorToken) {
    throw new TypeError('a mutation may not change the session tokens');
  }
}
