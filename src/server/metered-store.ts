// The session store as the server sees it, measured: latency and failures of every operation,
// and the sessions it starts and finishes. A session counts as finished by the process whose
// compare-and-set committed its final status, so counts summed over processes are exact.
import { isFinal, type Session } from '../session/session.js';
import { StoreError, UnconfirmedWriteError, type Mutation, type SessionStore, type Unsubscribe } from '../store/store.js';
import type { ServerMetrics } from './metrics.js';

export class MeteredStore implements SessionStore<Session> {
  constructor(
    private readonly inner: SessionStore<Session>,
    private readonly metrics: ServerMetrics,
  ) {}

  async create(value: Session, ttlMs: number): Promise<void> {
    await this.#timed('create', () => this.inner.create(value, ttlMs));
    this.metrics.sessionStarted(value);
  }

  get(clientToken: string): Promise<Session | undefined> {
    return this.#timed('get', () => this.inner.get(clientToken));
  }

  clientTokenOf(requestorToken: string): Promise<string | undefined> {
    return this.#timed('clientTokenOf', () => this.inner.clientTokenOf(requestorToken));
  }

  async update<R>(clientToken: string, mutate: Mutation<Session, R>): Promise<R> {
    // The mutation may run once per attempt; only the last attempt's decision was committed.
    let finished: Session | undefined;
    const observed: Mutation<Session, R> = (current) => {
      const outcome = mutate(current);
      const next = outcome.value;
      finished = next && !isFinal(current.status) && isFinal(next.status) ? next : undefined;
      return outcome;
    };
    try {
      const result = await this.#timed('update', () => this.inner.update(clientToken, observed));
      if (finished) this.metrics.sessionFinished(finished);
      return result;
    } catch (err) {
      // Committed, only not acknowledged by enough replicas: the session did finish.
      if (err instanceof UnconfirmedWriteError && finished) this.metrics.sessionFinished(finished);
      throw err;
    }
  }

  subscribe(clientToken: string, listener: (value: Session) => void): Promise<Unsubscribe> {
    return this.#timed('subscribe', () => this.inner.subscribe(clientToken, listener));
  }

  ping(): Promise<void> {
    return this.#timed('ping', () => this.inner.ping());
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async #timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const end = this.metrics.storeDuration.startTimer({ operation });
    try {
      return await run();
    } catch (err) {
      const code = err instanceof StoreError ? err.code : 'OTHER';
      if (code !== 'SESSION_UNKNOWN') this.metrics.storeErrors.inc({ operation, code });
      throw err;
    } finally {
      end();
    }
  }
}
