// In-process session store: the default when no Redis is configured.
//
// Stored sessions are deeply frozen and handed out as they are, never copied: a reader cannot
// change what others see, and a mutation builds its new session beside the current one (sharing
// the members it keeps) instead of editing it. Copying on every get and update cost more than
// anything else in the store. Sub-trees equal to ones other sessions hold are replaced by those
// while freezing (see shared-values.ts), since most of an open session is the same as the next.
//
// A mutation is synchronous, so read, mutate and write happen without yielding to the event
// loop; the identity check of the entry still guards the write so the code mirrors the Redis store's
// compare-and-set and stays correct if the read is ever made asynchronous.

import { EventEmitter } from 'node:events';
import {
  StoreError,
  type Mutation,
  type SessionStore,
  type StoredSession,
  type Unsubscribe,
} from './store.js';
import { ValueSharer } from './shared-values.js';
import { checkTokensKept, checkTtl } from './write-checks.js';

// One per open session, so it holds only what a session needs: the value's identity already tells
// a concurrent write apart (each write stores a new frozen object), so there is no version, and the
// expiry counts from the store's start so it stays a small integer instead of a boxed double.
class Entry<T> {
  constructor(
    readonly value: T,
    /** Milliseconds after the store's #base. */
    readonly expiresAt: number,
  ) {}
}

export interface MemoryStoreOptions {
  /** How often expired sessions are dropped, in ms; reads drop them lazily anyway. */
  sweepIntervalMs?: number;
  /** Clock, injectable so expiry can be tested without sleeping. */
  now?: () => number;
}

export class MemoryStore<T extends StoredSession> implements SessionStore<T> {
  readonly #sessions = new Map<string, Entry<T>>();
  readonly #tokens = new Map<string, string>();
  readonly #events = new EventEmitter();
  readonly #now: () => number;
  readonly #base: number;
  readonly #sharer = new ValueSharer();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#base = this.#now();
    // A session page may hold many SSE listeners on one session.
    this.#events.setMaxListeners(0);
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 10_000);
    this.#sweeper.unref();
  }

  async create(value: T, ttlMs: number): Promise<void> {
    this.#checkOpen();
    checkTtl(ttlMs);
    const ct = value.clientToken;
    const rt = value.requestorToken;
    if (this.#live(ct) !== undefined || this.#liveToken(rt) !== undefined) {
      throw new StoreError('CONFLICT', 'session token already taken');
    }
    // Frozen in place, not copied: a value handed to the store is the store's from then on.
    this.#sessions.set(ct, new Entry(this.#sharer.freeze(value), this.#clock() + ttlMs));
    this.#tokens.set(rt, ct);
  }

  async get(clientToken: string): Promise<T | undefined> {
    this.#checkOpen();
    const entry = this.#live(clientToken);
    return entry?.value;
  }

  async clientTokenOf(requestorToken: string): Promise<string | undefined> {
    this.#checkOpen();
    return this.#liveToken(requestorToken);
  }

  async update<R>(clientToken: string, mutate: Mutation<T, R>): Promise<R> {
    this.#checkOpen();
    const read = this.#live(clientToken);
    if (read === undefined) throw new StoreError('SESSION_UNKNOWN', 'session unknown or expired');
    const outcome = mutate(read.value);
    if (outcome.value === undefined) return outcome.result;
    const ttlMs = outcome.ttlMs ?? 0;
    checkTtl(ttlMs);
    checkTokensKept(read.value, outcome.value);
    if (this.#sessions.get(clientToken) !== read) {
      throw new StoreError('CONFLICT', 'session changed during update');
    }
    // Frozen in place: the new session is the mutation's own object, made for this write.
    const stored = this.#sharer.freeze(outcome.value);
    this.#sessions.set(clientToken, new Entry(stored, this.#clock() + ttlMs));
    this.#emit(clientToken, stored);
    return outcome.result;
  }

  async subscribe(clientToken: string, listener: (value: T) => void): Promise<Unsubscribe> {
    this.#checkOpen();
    const wrapped = (value: T): void => listener(value);
    this.#events.on(clientToken, wrapped);
    return async () => {
      this.#events.off(clientToken, wrapped);
    };
  }

  async ping(): Promise<void> {
    this.#checkOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#events.removeAllListeners();
    this.#sessions.clear();
    this.#tokens.clear();
  }

  /** Number of live sessions; for health output. */
  get size(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  #emit(clientToken: string, value: T): void {
    // Listeners run after the update resolves, as they would with Redis pub/sub, and one
    // failing listener neither breaks the writer nor starves the others.
    for (const listener of this.#events.listeners(clientToken) as Array<(value: T) => void>) {
      queueMicrotask(() => {
        try {
          listener(value);
        } catch {
          // a listener's own failure is its own business
        }
      });
    }
  }

  #live(clientToken: string): Entry<T> | undefined {
    const entry = this.#sessions.get(clientToken);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock()) {
      this.#drop(clientToken, entry);
      return undefined;
    }
    return entry;
  }

  #liveToken(requestorToken: string): string | undefined {
    const ct = this.#tokens.get(requestorToken);
    if (ct === undefined) return undefined;
    if (this.#live(ct) === undefined) {
      this.#tokens.delete(requestorToken);
      return undefined;
    }
    return ct;
  }

  #drop(clientToken: string, entry: Entry<T>): void {
    this.#sessions.delete(clientToken);
    if (this.#tokens.get(entry.value.requestorToken) === clientToken) {
      this.#tokens.delete(entry.value.requestorToken);
    }
  }

  /** Milliseconds since the store started: small integers (V8 smis) for ~24 days of uptime. */
  #clock(): number {
    return this.#now() - this.#base;
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [ct, entry] of this.#sessions) {
      if (entry.expiresAt <= now) this.#drop(ct, entry);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('UNAVAILABLE', 'session store is closed');
  }
}
