// Timers that end sessions at their deadline, so a TIMEOUT (its callback, its SSE frame) happens
// even when nobody asks. Each process only watches sessions it has seen; the timeout is a
// compare-and-set like any other transition, so several watchers still commit it once.
//
// One Node timer per session cost ~400 bytes each, more than the rest of a session's bookkeeping;
// so deadlines are rounded up to slots of GRAIN_MS and one timer serves the earliest slot.
import { deadline, type Lifetimes } from '../session/lifetimes.js';
import type { Session } from '../session/session.js';
import type { Clock } from './clock.js';

/** A session times out at most this much after its deadline. */
const GRAIN_MS = 250;
/** setTimeout cannot wait longer than ~24.8 days; lifetimes are minutes. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class DeadlineWatcher {
  /** Slot number (small integers, counted from #base) each watched session is due in. */
  readonly #due = new Map<string, number>();
  /** Sessions per slot; an entry whose #due moved on or was forgotten is skipped. */
  readonly #slots = new Map<number, string[]>();
  readonly #base: number;
  #timer: NodeJS.Timeout | undefined;
  #timerSlot = Infinity;
  #closed = false;

  /** `expire(ct)` commits the timeout if the session is still overdue when its slot comes. */
  constructor(
    private readonly lifetimes: Lifetimes,
    private readonly clock: Clock,
    private readonly expire: (clientToken: string) => Promise<void>,
  ) {
    this.#base = clock();
  }

  watch(session: Session): void {
    const at = deadline(session, this.lifetimes);
    if (this.#closed || at === undefined) return;
    const ct = session.clientToken;
    const slot = Math.ceil((at - this.#base) / GRAIN_MS);
    if (this.#due.get(ct) === slot) return;
    this.#due.set(ct, slot);
    const list = this.#slots.get(slot);
    if (list) list.push(ct);
    else this.#slots.set(slot, [ct]);
    this.#arm(slot);
  }

  forget(clientToken: string): void {
    this.#due.delete(clientToken);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#due.clear();
    this.#slots.clear();
  }

  /** Number of sessions watched; for tests and health output. */
  get size(): number {
    return this.#due.size;
  }

  #arm(slot: number): void {
    if (slot >= this.#timerSlot) return;
    clearTimeout(this.#timer);
    this.#timerSlot = slot;
    const delay = Math.min(Math.max(this.#base + slot * GRAIN_MS - this.clock(), 0), MAX_DELAY_MS);
    this.#timer = setTimeout(() => this.#fire(), delay);
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerSlot = Infinity;
    const now = this.clock();
    let next = Infinity;
    for (const [slot, list] of this.#slots) {
      if (this.#base + slot * GRAIN_MS > now) {
        next = Math.min(next, slot);
        continue;
      }
      this.#slots.delete(slot);
      for (const ct of list) {
        if (this.#due.get(ct) !== slot) continue;
        this.#due.delete(ct);
        void this.expire(ct).catch(() => undefined);
      }
    }
    if (next !== Infinity && !this.#closed) this.#arm(next);
  }
}
