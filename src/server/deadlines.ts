// Timers that end sessions at their deadline, so a TIMEOUT (its callback, its SSE frame) happens
// even when nobody asks. Each process only watches sessions it has seen; the timeout is a
// compare-and-set like any other transition, so several watchers still commit it once.
import { deadline, type Lifetimes } from '../session/lifetimes.js';
import type { Session } from '../session/session.js';
import type { Clock } from './clock.js';

export class DeadlineWatcher {
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #closed = false;

  /** `expire(ct)` commits the timeout if the session is still overdue when the timer fires. */
  constructor(
    private readonly lifetimes: Lifetimes,
    private readonly clock: Clock,
    private readonly expire: (clientToken: string) => Promise<void>,
  ) {}

  watch(session: Session): void {
    const at = deadline(session, this.lifetimes);
    if (this.#closed || at === undefined) return;
    const ct = session.clientToken;
    const existing = this.#timers.get(ct);
    if (existing?.at === at) return;
    if (existing) clearTimeout(existing.timer);
    // setTimeout cannot wait longer than ~24.8 days; lifetimes are minutes.
    const delay = Math.min(Math.max(at - this.clock(), 0), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      this.#timers.delete(ct);
      void this.expire(ct).catch(() => undefined);
    }, delay);
    timer.unref();
    this.#timers.set(ct, { at, timer });
  }

  forget(clientToken: string): void {
    const existing = this.#timers.get(clientToken);
    if (existing) clearTimeout(existing.timer);
    this.#timers.delete(clientToken);
  }

  close(): void {
    this.#closed = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
