// The session store contract. Memory and Redis implement it; the server only sees this.
//
// A stored value is one whole session, serialisable as JSON. The store knows two of its
// fields: the client token (primary key) and the requestor token (secondary lookup).
// Everything else is opaque to it, so the store does not depend on the session module.

export interface StoredSession {
  clientToken: string;
  requestorToken: string;
}

/**
 * What a mutation decides. `value` undefined means "no change, write nothing".
 * `ttlMs` is how long the written value is kept (must be > 0 when `value` is set).
 * `result` is handed back to the caller of `update` only when this attempt committed
 * (or wrote nothing), so effects decided from it happen exactly once across processes.
 */
export interface MutationOutcome<T, R> {
  value?: T;
  ttlMs?: number;
  /**
   * This write finishes the session (its effects must survive a failover): a replicated
   * store waits for replica acknowledgement (`redis_wait_replicas`) before `update` resolves.
   */
  durable?: boolean;
  result: R;
}

/**
 * A pure function of the current value. It may run several times (once per attempt when
 * another writer got in between), so it must not perform I/O or cryptography.
 */
export type Mutation<T, R> = (current: T) => MutationOutcome<T, R>;

export type Unsubscribe = () => Promise<void>;

export interface SessionStore<T extends StoredSession> {
  /** Stores a new session under both tokens; fails if either token is already taken. */
  create(value: T, ttlMs: number): Promise<void>;
  /** The session by client token, or undefined if unknown or expired. */
  get(clientToken: string): Promise<T | undefined>;
  /** The client token for a requestor token, or undefined if unknown or expired. */
  clientTokenOf(requestorToken: string): Promise<string | undefined>;
  /**
   * Atomic read-modify-write (compare-and-set). Runs `mutate` on the current value and
   * writes its result only if nobody wrote in between; on conflict it re-reads and retries
   * a bounded number of times. Throws StoreError('SESSION_UNKNOWN') for a missing session,
   * StoreError('CONFLICT') when retries are exhausted, StoreError('UNAVAILABLE') when the
   * backend cannot be reached, UnconfirmedWriteError (an UNAVAILABLE) when a durable write
   * committed but too few replicas acknowledged it.
   */
  update<R>(clientToken: string, mutate: Mutation<T, R>): Promise<R>;
  /**
   * Calls `listener` with every value committed for this session from now on, by any
   * process sharing the store. Resolves once the subscription is active.
   */
  subscribe(clientToken: string, listener: (value: T) => void): Promise<Unsubscribe>;
  /**
   * Round trip to the backend; throws StoreError('UNAVAILABLE') when it is down: at once when
   * the store already knows (its connection is down), else within the operation timeout. What
   * health and readiness checks call.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type StoreErrorCode = 'SESSION_UNKNOWN' | 'CONFLICT' | 'UNAVAILABLE' | 'CORRUPT';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/**
 * A durable write committed, but fewer replicas than required acknowledged it: the new value is
 * in the store (and was published), only its survival of a failover is not assured. Carries the
 * mutation's result, so the caller can still carry out the effects of what did happen.
 */
export class UnconfirmedWriteError<R = unknown> extends StoreError {
  readonly result: R;
  constructor(result: R, message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
    this.name = 'UnconfirmedWriteError';
    this.result = result;
  }
}
