// A server's revocation duties for every credential type, over one RevocationStore: the
// authority's chain (initial accumulators, revocation, re-signing, issuance records), a mirror's
// or verifier's copy fetched from a revocation server, and what sessions need from it (updates
// for requests, witnesses for issuance).
import type { PrivateKey, PublicKey } from '../idemix/keys.js';
import type { SchemeRegistry } from '../scheme/types.js';
import {
  newAccumulator,
  openSignedAccumulator,
  publicKeySupportsRevocation,
  removeFromAccumulator,
  signAccumulator,
  type Accumulator,
} from './accumulator.js';
import { RevocationError } from './errors.js';
import { eventHash, hashesEqual, type RevocationEvent } from './events.js';
import { fetchCbor } from './http-fetch.js';
import { decodeIssuanceRecord, encodeIssuanceRecord } from './issuance-record.js';
import { openSignedMessage, signMessage } from './signed-message.js';
import {
  DEFAULT_TOLERANCE,
  DEFAULT_UPDATE_COUNT,
  defaultSetting,
  MAX_UPDATE_COUNT,
  type RevocationSetting,
  type RevocationSettings,
} from './settings.js';
import type { IssuanceRecord, RevocationStore } from './store.js';
import { decodeUpdateMap, updateToJson, verifyUpdate, type Update, type UpdateJson } from './update.js';
import { randomWitness, type Witness } from './witness.js';

export const ACCUMULATOR_UPDATE_INTERVAL_S = 60;
export const DELETE_ISSUANCE_RECORDS_INTERVAL_S = 300;
export const REQUESTOR_UPDATE_INTERVAL_S = 10;
export const EVENTS_CACHE_MAX_AGE_S = 3600;

export interface RevocationLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  info?(obj: Record<string, unknown>, msg: string): void;
}

export interface RevocationServiceOptions {
  schemes: SchemeRegistry;
  store: RevocationStore;
  settings: RevocationSettings;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  log?: RevocationLogger;
}

export class RevocationService {
  readonly schemes: SchemeRegistry;
  readonly store: RevocationStore;
  readonly settings: RevocationSettings;
  readonly #clock: () => number;
  readonly #log?: RevocationLogger;
  /** Last successful fetch from a revocation server, ms, per type. */
  readonly #lastSync = new Map<string, number>();
  readonly #syncing = new Map<string, Promise<void>>();
  /** Non-authority types to keep fresh; a type used in a session joins lazily. */
  readonly #watched = new Set<string>();
  #timers: NodeJS.Timeout[] = [];
  readonly #listeners = new Set<(type: string, update: Update) => void>();

  constructor(o: RevocationServiceOptions) {
    this.schemes = o.schemes;
    this.store = o.store;
    this.settings = o.settings;
    this.#clock = o.clock ?? Date.now;
    this.#log = o.log;
    for (const [id, s] of Object.entries(this.settings)) if (!s.authority) this.#watched.add(id);
  }

  nowSeconds(): number {
    return Math.floor(this.#clock() / 1000);
  }

  setting(type: string): RevocationSetting {
    return this.settings[type] ?? defaultSetting();
  }

  isAuthority(type: string): boolean {
    return this.setting(type).authority;
  }

  isServer(type: string): boolean {
    const s = this.setting(type);
    return s.server || s.authority;
  }

  /** Issuance of the type is possible: we are its authority or know where to send records. */
  canIssue(type: string): boolean {
    const s = this.setting(type);
    return s.authority || s.server || s.revocationServerUrl !== '';
  }

  tolerance(type: string, requested?: number): number {
    if (requested) return requested;
    return this.setting(type).tolerance || DEFAULT_TOLERANCE;
  }

  updateCount(type: string): number {
    return this.schemes.credentialType(type)?.revocationUpdateCount ?? DEFAULT_UPDATE_COUNT;
  }

  #credType(type: string) {
    const t = this.schemes.credentialType(type);
    if (!t || !t.revocationSupported) throw new RevocationError('INVALID_REQUEST', `credential type ${type} does not support revocation`);
    return t;
  }

  publicKey(type: string, counter: number): PublicKey {
    const pk = this.schemes.publicKey(this.#credType(type).issuerId, counter);
    if (!pk || !publicKeySupportsRevocation(pk)) throw new RevocationError('REVOCATION', `public key ${counter} of ${type} does not support revocation`);
    return pk;
  }

  #privateKey(type: string, counter: number): PrivateKey {
    const sk = this.schemes.privateKey(this.#credType(type).issuerId, counter);
    if (!sk || sk.ecdsa === undefined) throw new RevocationError('REVOCATION', `private key ${counter} of ${type} has no revocation material`);
    return sk;
  }

  #keyOf(type: string): (counter: number) => PublicKey | undefined {
    return (counter) => {
      try {
        return this.publicKey(type, counter);
      } catch {
        return undefined;
      }
    };
  }

  /** Revocation-capable private keys of the type's issuer, ascending by counter. */
  #revocationPrivateKeys(type: string): PrivateKey[] {
    const issuer = this.#credType(type).issuerId;
    const latest = this.schemes.latestPrivateKey(issuer);
    const out: PrivateKey[] = [];
    for (let c = 0; latest && c <= latest.counter; c++) {
      const sk = this.schemes.privateKey(issuer, c);
      const pk = this.schemes.publicKey(issuer, c);
      if (sk && sk.ecdsa !== undefined && pk && publicKeySupportsRevocation(pk)) out.push(sk);
    }
    return out;
  }

  // ---- authority ----

  /** Creates the missing initial accumulators of every authority type. */
  async start(): Promise<void> {
    for (const [type, s] of Object.entries(this.settings)) {
      if (s.authority) await this.enable(type);
      else {
        // A first copy right away (the reference's startup sync); an unreachable server is retried later.
        await this.sync(type).catch((e) => this.#log?.warn({ credentialType: type, err: (e as Error).message }, 'initial revocation update failed'));
      }
    }
  }

  async enable(type: string): Promise<void> {
    const sks = this.#revocationPrivateKeys(type);
    if (sks.length === 0) throw new RevocationError('REVOCATION', `revocation server mode enabled for ${type} but no private key installed`);
    await this.store.write(type, async (tx) => {
      for (const sk of sks) {
        if (await tx.head(sk.counter)) continue;
        const { acc, event } = newAccumulator(sk, this.nowSeconds());
        await tx.putAccumulator(sk.counter, signAccumulator(acc, sk));
        await tx.insertEvents(sk.counter, [event]);
      }
    });
  }

  /** Re-signs every accumulator of the type with the current time (the authority's heartbeat). */
  async resign(type: string): Promise<void> {
    const fresh: Update[] = [];
    await this.store.write(type, async (tx) => {
      for (const counter of await this.store.counters(type)) {
        const head = await tx.head(counter);
        if (!head) continue;
        const sk = this.#privateKey(type, counter);
        const acc = openSignedAccumulator(head.sacc, this.publicKey(type, counter));
        const sacc = signAccumulator({ ...acc, time: this.nowSeconds() }, sk);
        await tx.putAccumulator(counter, sacc);
        fresh.push({ sacc, events: [] });
      }
    });
    // Pushed to updateevents subscribers, as the reference's authority does (time refreshes only).
    for (const u of fresh) for (const l of this.#listeners) l(type, u);
  }

  /** Subscribes to the authority's re-signed accumulators; returns the unsubscribe function. */
  onUpdate(listener: (type: string, update: Update) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /**
   * Revokes every unrevoked credential with this key (or only the one issued at `issued` ns):
   * one event per credential, one signature per key counter, records marked, all in one
   * transaction.
   */
  async revoke(type: string, key: string, issued?: bigint): Promise<number> {
    if (!this.isAuthority(type)) throw new RevocationError('REVOCATION', `cannot revoke ${type}`);
    if (!this.store.durable) throw new RevocationError('REVOCATION', 'revocation needs a revocation database (revocation_db_str)');
    return this.store.write(type, async (tx) => {
      const records = await tx.unrevokedRecords(key, issued);
      if (records.length === 0) throw new RevocationError('UNKNOWN_REVOCATION_KEY', 'no issuance records correspond to the given revocationKey');
      const nowS = this.nowSeconds();
      const nowNs = BigInt(this.#clock()) * 1_000_000n;
      const byCounter = new Map<number, IssuanceRecord[]>();
      for (const r of records) byCounter.set(r.pkCounter, [...(byCounter.get(r.pkCounter) ?? []), r]);
      for (const [counter, recs] of byCounter) {
        const head = await tx.head(counter);
        if (!head) throw new RevocationError('REVOCATION', `no accumulator for key ${counter} of ${type}`);
        const sk = this.#privateKey(type, counter);
        let acc: Accumulator = openSignedAccumulator(head.sacc, this.publicKey(type, counter));
        let last: RevocationEvent = head.last;
        const events: RevocationEvent[] = [];
        for (const r of recs) {
          const next = removeFromAccumulator(acc, last, r.attr, sk, nowS);
          acc = next.acc;
          last = next.event;
          events.push(next.event);
        }
        await tx.insertEvents(counter, events);
        await tx.putAccumulator(counter, signAccumulator(acc, sk));
        for (const r of recs) await tx.markRevoked(r, nowNs);
      }
      return records.length;
    });
  }

  /** POST issuancerecord/{counter} from a non-authority issuer. */
  async acceptIssuanceRecord(type: string, counter: number, body: Uint8Array): Promise<void> {
    if (!this.isAuthority(type)) throw new RevocationError('INVALID_REQUEST', 'not supported by this server');
    const pk = this.publicKey(type, counter);
    let payload: Uint8Array;
    try {
      payload = openSignedMessage(body, pk.ecdsa as string);
    } catch (e) {
      throw new RevocationError('UNAUTHORIZED', (e as Error).message);
    }
    const record = decodeIssuanceRecord(payload);
    if (record.credType !== type) throw new RevocationError('INVALID_REQUEST', 'issuance record of wrong credential type');
    await this.#insertRecord(record);
  }

  async #insertRecord(record: IssuanceRecord): Promise<void> {
    try {
      await this.store.insertIssuanceRecord(record);
    } catch (e) {
      throw new RevocationError('REVOCATION', `revocation database error: ${(e as Error).message}`);
    }
  }

  // ---- serving and syncing updates ----

  async update(type: string, counter: number, count: number): Promise<Update | null> {
    const head = await this.store.head(type, counter);
    if (!head) return null;
    const to = head.last.index + 1;
    const from = count === 0 ? 0 : Math.max(0, to - Math.min(count, MAX_UPDATE_COUNT));
    const events = await this.store.events(type, counter, from, to);
    return { sacc: head.sacc, events };
  }

  async latestUpdates(type: string, count: number): Promise<Map<number, Update>> {
    const out = new Map<number, Update>();
    for (const counter of await this.store.counters(type)) {
      const u = await this.update(type, counter, count);
      if (u) out.set(counter, u);
    }
    return out;
  }

  /** Cache-Control max-age of update answers: the earliest next re-signing, possibly negative. */
  updateMaxAge(updates: Iterable<Update>, type: string): number {
    let min: number | undefined;
    for (const u of updates) {
      const t = openSignedAccumulator(u.sacc, this.publicKey(type, u.sacc.pk)).time;
      min = min === undefined ? t : Math.min(min, t);
    }
    return (min ?? 0) + ACCUMULATOR_UPDATE_INTERVAL_S - this.nowSeconds();
  }

  async events(type: string, counter: number, from: number, to: number): Promise<RevocationEvent[]> {
    if (from >= to || from % 16 !== 0 || to % 16 !== 0) throw new RevocationError('REVOCATION', 'illegal update interval');
    if (to - from > MAX_UPDATE_COUNT) throw new RevocationError('REVOCATION', 'illegal update interval');
    const events = await this.store.events(type, counter, from, to);
    if (events.length === 0) throw new RevocationError('NOT_FOUND', 'revocation state not found');
    return events;
  }

  /** Stores a fetched update after checking it against what is stored (digest §5 AddUpdate). */
  async addUpdate(type: string, update: Update): Promise<void> {
    const acc = verifyUpdate(update, this.#keyOf(type));
    const counter = update.sacc.pk;
    await this.store.write(type, async (tx) => {
      const head = await tx.head(counter);
      if (!head) {
        if (update.events.length === 0) throw new RevocationError('REVOCATION', 'accumulator refers to unknown revocation event index');
        await tx.insertEvents(counter, update.events);
        await tx.putAccumulator(counter, update.sacc);
        return;
      }
      if (head.last.index > acc.index) return;
      const fresh = update.events.filter((e) => e.index > head.last.index);
      if (fresh.length > 0) {
        if (!hashesEqual(fresh[0].parentHash, eventHash(head.last)) || fresh[0].index !== head.last.index + 1) {
          throw new RevocationError('REVOCATION', 'update does not extend the stored chain');
        }
        await tx.insertEvents(counter, fresh);
      } else if (acc.index !== head.last.index || !hashesEqual(acc.eventHash, eventHash(head.last))) {
        throw new RevocationError('REVOCATION', 'accumulator refers to unknown revocation event index');
      } else {
        const stored = openSignedAccumulator(head.sacc, this.publicKey(type, counter));
        if (acc.time <= stored.time) return;
      }
      await tx.putAccumulator(counter, update.sacc);
    });
  }

  #serverUrls(type: string): string[] {
    const s = this.setting(type);
    if (s.revocationServerUrl !== '') return [s.revocationServerUrl];
    return (this.#credType(type).revocationServers ?? []).map((u) => u.replace(/\/+$/, ''));
  }

  /** Fetches the latest updates from the type's revocation server(s) into the store. */
  async sync(type: string): Promise<void> {
    if (this.isAuthority(type)) return;
    const running = this.#syncing.get(type);
    if (running) return running;
    const run = (async () => {
      let lastError: Error = new RevocationError('REVOCATION', `no revocation server known for ${type}`);
      for (const base of this.#serverUrls(type)) {
        try {
          const res = await fetchCbor(`${base}/revocation/${type}/update/${this.updateCount(type)}`);
          if (res.status !== 200) throw new RevocationError('REVOCATION', `revocation server answered ${res.status}`);
          for (const u of decodeUpdateMap(res.body).values()) await this.addUpdate(type, u);
          this.#lastSync.set(type, this.#clock());
          return;
        } catch (e) {
          lastError = e as Error;
        }
      }
      throw lastError;
    })();
    this.#syncing.set(type, run);
    try {
      await run;
    } finally {
      this.#syncing.delete(type);
    }
  }

  lastSync(type: string): number | undefined {
    return this.#lastSync.get(type);
  }

  /** Syncs when the last successful sync is older than maxAge seconds; stale state beats none. */
  async syncIfOld(type: string, maxAgeSeconds: number): Promise<void> {
    if (this.isAuthority(type)) return;
    this.#watched.add(type);
    const last = this.#lastSync.get(type);
    if (last !== undefined && this.#clock() - last <= maxAgeSeconds * 1000) return;
    try {
      await this.sync(type);
    } catch (e) {
      if ((await this.store.counters(type)).length === 0) throw e;
      this.#log?.warn({ credentialType: type, err: (e as Error).message }, 'revocation update failed; using earlier state');
    }
  }

  /** The `updates` a session request carries for the type: every key counter's latest events. */
  async updatesForSession(type: string, requestedTolerance?: number): Promise<Record<string, UpdateJson>> {
    await this.syncIfOld(type, this.tolerance(type, requestedTolerance) / 2);
    const updates = await this.latestUpdates(type, this.updateCount(type));
    if (updates.size === 0) throw new RevocationError('REVOCATION', `no revocation updates known for ${type}`);
    return Object.fromEntries([...updates].map(([c, u]) => [String(c), updateToJson(u)]));
  }

  // ---- issuance ----

  /** A witness against the latest accumulator of the issuing key; non-authorities fetch it first. */
  async witness(type: string, sk: PrivateKey): Promise<Witness> {
    if (!this.isAuthority(type)) await this.sync(type);
    const head = await this.store.head(type, sk.counter);
    if (!head) throw new RevocationError('REVOCATION', `no accumulator for key ${sk.counter} of ${type}`);
    const acc = openSignedAccumulator(head.sacc, this.publicKey(type, sk.counter));
    return randomWitness(sk, head.sacc, acc);
  }

  /** Stores (authority) or sends (issuer) the record of a credential just issued. */
  async recordIssuance(record: IssuanceRecord): Promise<void> {
    const type = record.credType;
    if (this.isAuthority(type)) return this.#insertRecord(record);
    const url = this.setting(type).revocationServerUrl;
    if (url === '') throw new RevocationError('REVOCATION', 'cannot send issuance record: no server_url configured');
    const sk = this.#privateKey(type, record.pkCounter);
    const body = signMessage(encodeIssuanceRecord(record), sk.ecdsa as string);
    const res = await fetchCbor(`${url}/revocation/${type}/issuancerecord/${record.pkCounter}`, { method: 'POST', body });
    if (res.status !== 200) throw new RevocationError('REVOCATION', `revocation server refused the issuance record (${res.status})`);
  }

  // ---- timers ----

  startTimers(): void {
    const every = (seconds: number, job: () => Promise<unknown>) => {
      const t = setInterval(() => void job().catch((e) => this.#log?.warn({ err: (e as Error).message }, 'revocation background job failed')), seconds * 1000);
      t.unref();
      this.#timers.push(t);
    };
    every(ACCUMULATOR_UPDATE_INTERVAL_S, async () => {
      for (const [type, s] of Object.entries(this.settings)) if (s.authority) await this.resign(type);
    });
    every(DELETE_ISSUANCE_RECORDS_INTERVAL_S, () => this.store.deleteExpiredIssuanceRecords(BigInt(this.#clock()) * 1_000_000n));
    every(REQUESTOR_UPDATE_INTERVAL_S, async () => {
      for (const type of this.#watched) await this.syncIfOld(type, this.tolerance(type) / 2);
    });
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.store.close();
  }
}
