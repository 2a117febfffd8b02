// Revocation state in this process only: what a verifier caches from a revocation server. It
// keeps no issuance records, as the reference's in-memory storage does not.
import type { SignedAccumulator } from './accumulator.js';
import { RevocationError } from './errors.js';
import type { RevocationEvent } from './events.js';
import type { IssuanceRecord, RevocationStore, RevocationWriteTx, StoredHead } from './store.js';

/**
 * Events kept per key counter: a verifier only hands out the latest few (16 by default, 512 at
 * most), so older ones are dropped rather than kept forever.
 */
export const MEMORY_EVENTS_KEPT = 1024;

interface Chain {
  sacc: SignedAccumulator;
  events: Map<number, RevocationEvent>;
}

export class MemoryRevocationStore implements RevocationStore {
  readonly durable = false;
  #chains = new Map<string, Map<number, Chain>>();
  #locks = new Map<string, Promise<unknown>>();

  #type(credType: string): Map<number, Chain> {
    let m = this.#chains.get(credType);
    if (!m) this.#chains.set(credType, (m = new Map()));
    return m;
  }

  async counters(credType: string): Promise<number[]> {
    return [...this.#type(credType).keys()].sort((a, b) => a - b);
  }

  async head(credType: string, counter: number): Promise<StoredHead | undefined> {
    const c = this.#type(credType).get(counter);
    if (!c) return undefined;
    const last = [...c.events.values()].reduce<RevocationEvent | undefined>((a, e) => (a === undefined || e.index > a.index ? e : a), undefined);
    return last ? { sacc: c.sacc, last } : undefined;
  }

  async events(credType: string, counter: number, from: number, to: number): Promise<RevocationEvent[]> {
    const c = this.#type(credType).get(counter);
    if (!c) return [];
    return [...c.events.values()].filter((e) => e.index >= from && e.index < to).sort((a, b) => a.index - b.index);
  }

  async write<T>(credType: string, fn: (tx: RevocationWriteTx) => Promise<T>): Promise<T> {
    const before = this.#locks.get(credType) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(async () => {
      const chains = this.#type(credType);
      // Staged, so that a failing fn changes nothing.
      const accs = new Map<number, SignedAccumulator>();
      const added = new Map<number, RevocationEvent[]>();
      const tx: RevocationWriteTx = {
        head: (counter) => this.head(credType, counter),
        putAccumulator: async (counter, sacc) => void accs.set(counter, sacc),
        insertEvents: async (counter, events) => {
          const chain = chains.get(counter);
          for (const e of events) {
            if (chain?.events.has(e.index) || (added.get(counter) ?? []).some((x) => x.index === e.index)) {
              throw new RevocationError('REVOCATION', `event ${e.index} already stored`);
            }
          }
          added.set(counter, [...(added.get(counter) ?? []), ...events]);
        },
        unrevokedRecords: async () => [],
        markRevoked: async () => undefined,
      };
      const result = await fn(tx);
      for (const [counter, sacc] of accs) {
        const chain = chains.get(counter) ?? { sacc, events: new Map() };
        chain.sacc = sacc;
        chains.set(counter, chain);
      }
      for (const [counter, events] of added) {
        const chain = chains.get(counter);
        if (!chain) throw new RevocationError('REVOCATION', 'events without accumulator');
        for (const e of events) chain.events.set(e.index, e);
        if (chain.events.size > MEMORY_EVENTS_KEPT) {
          const sorted = [...chain.events.keys()].sort((a, b) => a - b);
          for (const i of sorted.slice(0, sorted.length - MEMORY_EVENTS_KEPT)) chain.events.delete(i);
        }
      }
      return result;
    });
    this.#locks.set(credType, run);
    return run;
  }

  async insertIssuanceRecord(_record: IssuanceRecord): Promise<void> {
    throw new RevocationError('REVOCATION', 'issuance records need a revocation database (revocation_db_str)');
  }

  async issuanceRecords(): Promise<IssuanceRecord[]> {
    return [];
  }

  async deleteExpiredIssuanceRecords(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}
