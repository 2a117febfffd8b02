// Session store on Redis (standalone, Sentinel or Cluster), shared by every server process.
//
// Keys of one session carry one hash tag, the first 4 characters of its tokens (the server
// makes both tokens start alike), so they live on one cluster slot and a Lua script may touch
// both:   <prefix>irma:{abcd}:session:<ct>   "<version>:<payload>"   (payload = JSON or sealed)
//         <prefix>irma:{abcd}:token:<rt>     "<ct>"
//         <prefix>irma:{abcd}:events:<ct>    pub/sub channel, messages = the stored string
// Writes are Lua compare-and-set on the version, so no lock is ever held while the caller
// works, and the script publishes the committed value in the same atomic step, so
// subscribers see commits in commit order and never miss one because a writer crashed.

import { createHash } from 'node:crypto';
import { createValueCodec, type ValueCodec } from './encryption.js';
import { connectBackend, type MessageListener, type RedisBackend, type StoreLogger } from './redis-backend.js';

export type { StoreLogger };
import {
  INCONSISTENCY_NOT_ACCEPTED,
  RedisConfigError,
  resolveRedisOptions,
  type RedisStoreOptions,
  type ResolvedRedisOptions,
} from './redis-options.js';
import {
  StoreError,
  UnconfirmedWriteError,
  type Mutation,
  type SessionStore,
  type StoredSession,
  type Unsubscribe,
} from './store.js';
import { checkTokensKept, checkTtl } from './write-checks.js';

export interface RedisStoreRuntime {
  logger?: StoreLogger;
  /** Compare-and-set attempts before update gives up with CONFLICT. */
  maxAttempts?: number;
}

const TOKEN = /^[A-Za-z0-9]{4,128}$/;
/** Pause between attempts to resynchronise subscriptions while Redis is still unreachable. */
const RESYNC_RETRY_MS = 250;

const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1`;

const UPDATE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
local expected = ARGV[1] .. ':'
if string.sub(current, 1, string.len(expected)) ~= expected then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call(ARGV[4], ARGV[5], ARGV[2])
return 1`;

interface Script {
  text: string;
  sha: string;
}
const script = (text: string): Script => ({ text, sha: createHash('sha1').update(text).digest('hex') });
const CREATE = script(CREATE_SCRIPT);
const UPDATE = script(UPDATE_SCRIPT);

interface Subscription<T> {
  channel: string;
  listeners: Set<(value: T) => void>;
  /** Highest version delivered: older messages (reordered, or re-read after a reconnect) are dropped. */
  lastVersion: number;
  onMessage: MessageListener;
  ready: Promise<void>;
}

interface Decoded {
  version: number;
  json: string;
}

/**
 * A request reads its session and then changes it (a client's GET connects, a POST claims and
 * then commits), so an update usually follows this process's own read or write of the same
 * session by a millisecond. It starts from that copy instead of reading again: the
 * compare-and-set still rejects it when another process wrote in between, and the update then
 * reads as it otherwise would; an update that answers without writing, which no compare-and-set
 * checks, reads again too. Bounded in number and age, since it only saves a round trip.
 */
const RECENT_LIMIT = 256;
const RECENT_MS = 1000;

interface Recent extends Decoded {
  at: number;
}

export class RedisStore<T extends StoredSession> implements SessionStore<T> {
  readonly #backend: RedisBackend;
  readonly #options: ResolvedRedisOptions;
  readonly #codec: ValueCodec;
  readonly #logger: StoreLogger | undefined;
  readonly #maxAttempts: number;
  readonly #subscriptions = new Map<string, Subscription<T>>();
  #closed = false;
  /** A resynchronisation is running; `#resyncAgain` asks it for one more pass over every subscription. */
  #resyncing = false;
  #resyncAgain = false;
  /**
   * Listeners whose UNSUBSCRIBE failed (Redis was down): the client keeps them and would
   * subscribe them again on every reconnect, so the next resynchronisation drops them.
   */
  readonly #abandoned = new Map<MessageListener, string>();
  /** Sessions this process read or wrote last, by client token, oldest first. */
  readonly #recent = new Map<string, Recent>();

  private constructor(backend: RedisBackend, options: ResolvedRedisOptions, codec: ValueCodec, runtime: RedisStoreRuntime) {
    this.#backend = backend;
    this.#options = options;
    this.#codec = codec;
    this.#logger = runtime.logger;
    this.#maxAttempts = runtime.maxAttempts ?? 50;
    backend.onSubscriberReconnect(() => void this.#resync());
  }

  /**
   * Validates the options (RedisConfigError), connects and checks the server answers
   * (StoreError UNAVAILABLE otherwise), like the reference's startup PING.
   */
  static async connect<T extends StoredSession>(
    options: RedisStoreOptions,
    runtime: RedisStoreRuntime = {},
  ): Promise<RedisStore<T>> {
    const resolved = resolveRedisOptions(options);
    const codec = createValueCodec(options.storeEncryptionKeys, { allowPlaintext: options.storeEncryptionAllowPlaintext });
    const backend = await connectBackend(resolved, runtime.logger);
    const store = new RedisStore<T>(backend, resolved, codec, runtime);
    try {
      await store.ping();
      if (resolved.mode === 'standalone') await store.#refuseClusterNode();
    } catch (err) {
      backend.destroy();
      throw err;
    }
    return store;
  }

  /** The key names of a session, for tests and tooling. */
  keysOf(clientToken: string, requestorToken?: string): { session: string; token?: string; channel: string } {
    const base = `${this.#options.keyPrefix}irma:{${clientToken.slice(0, 4)}}:`;
    return {
      session: `${base}session:${clientToken}`,
      token: requestorToken === undefined ? undefined : `${this.#options.keyPrefix}irma:{${requestorToken.slice(0, 4)}}:token:${requestorToken}`,
      channel: `${base}events:${clientToken}`,
    };
  }

  async create(value: T, ttlMs: number): Promise<void> {
    checkTtl(ttlMs);
    const ct = value.clientToken;
    const rt = value.requestorToken;
    if (!TOKEN.test(ct) || !TOKEN.test(rt)) throw new TypeError('session tokens must be alphanumeric');
    if (ct.slice(0, 4) !== rt.slice(0, 4)) {
      throw new TypeError('client and requestor token must share their first 4 characters (one cluster slot)');
    }
    const keys = this.keysOf(ct, rt);
    const stored = `1:${this.#codec.seal(JSON.stringify(value), keys.session)}`;
    const created = await this.#call(keys.session, (send) =>
      this.#eval(send, CREATE, [keys.session, keys.token!], [stored, String(Math.ceil(ttlMs)), ct]),
    );
    if (created !== 1) throw new StoreError('CONFLICT', 'session token already taken');
  }

  async get(clientToken: string): Promise<T | undefined> {
    const read = await this.#read(clientToken);
    if (read === undefined) {
      this.#recent.delete(clientToken);
      return undefined;
    }
    const value = this.#parse(read.json, clientToken);
    this.#remember(clientToken, read);
    return value;
  }

  #remember(clientToken: string, d: Decoded): void {
    // A reply can overtake this process's own later write on another connection: keep the newer.
    const known = this.#recent.get(clientToken);
    if (known !== undefined && known.version > d.version) return;
    this.#recent.delete(clientToken);
    this.#recent.set(clientToken, { version: d.version, json: d.json, at: performance.now() });
    if (this.#recent.size > RECENT_LIMIT) this.#recent.delete(this.#recent.keys().next().value as string);
  }

  /** This process's latest copy of the session, if it is recent; taken out, an update puts back what it wrote. */
  #takeRecent(clientToken: string): Decoded | undefined {
    const r = this.#recent.get(clientToken);
    if (r === undefined) return undefined;
    this.#recent.delete(clientToken);
    return performance.now() - r.at <= RECENT_MS ? r : undefined;
  }

  async clientTokenOf(requestorToken: string): Promise<string | undefined> {
    if (!TOKEN.test(requestorToken)) return undefined;
    const key = this.keysOf(requestorToken, requestorToken).token!;
    const ct = await this.#call(key, (send) => send(['GET', key]));
    return typeof ct === 'string' ? ct : undefined;
  }

  async update<R>(clientToken: string, mutate: Mutation<T, R>): Promise<R> {
    let recent = this.#takeRecent(clientToken);
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const fromRecent = recent !== undefined;
      const read = recent ?? (await this.#read(clientToken));
      recent = undefined;
      if (read === undefined) throw new StoreError('SESSION_UNKNOWN', 'session unknown or expired');
      const current = this.#parse(read.json, clientToken);
      // Taken before the mutation runs, which may edit `current` (strings cannot be edited in place).
      const stored = { clientToken: current.clientToken, requestorToken: current.requestorToken };
      const outcome = mutate(current);
      if (outcome.value === undefined) {
        // An answer without a write has no compare-and-set to catch a stale copy: it must come
        // from what Redis holds now.
        if (fromRecent) {
          attempt--;
          continue;
        }
        return outcome.result;
      }
      const ttlMs = outcome.ttlMs ?? 0;
      checkTtl(ttlMs);
      checkTokensKept(stored, outcome.value);

      const keys = this.keysOf(clientToken, outcome.value.requestorToken);
      const json = JSON.stringify(outcome.value);
      const sealed = `${read.version + 1}:${this.#codec.seal(json, keys.session)}`;
      const args = [String(read.version), sealed, String(Math.ceil(ttlMs)), this.#backend.publishCommand, keys.channel];
      const durable = outcome.durable === true && this.#options.waitReplicas > 0;
      let written = false;
      let committed: unknown;
      try {
        committed = await this.#call(keys.session, async (send) => {
          const r = await this.#eval(send, UPDATE, [keys.session, keys.token!], args);
          written = r === 1;
          if (written && durable) await this.#waitForReplicas(send);
          return r;
        }, durable);
      } catch (err) {
        // Only the replica acknowledgement failed: the commit stands and must not be retried.
        if (written) throw new UnconfirmedWriteError(outcome.result, (err as Error).message, { cause: err });
        throw err;
      }
      if (committed === 1) {
        this.#remember(clientToken, { version: read.version + 1, json });
        return outcome.result;
      }
      // The copy was stale (another process wrote, or the session ended): read, and try again at once.
      if (fromRecent) {
        attempt--;
        continue;
      }
      if (committed === -1) throw new StoreError('SESSION_UNKNOWN', 'session expired during update');
      // Somebody else committed first: back off a little, with jitter, and run the mutation again.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 * 2 ** attempt)));
    }
    throw new StoreError('CONFLICT', `session still contended after ${this.#maxAttempts} attempts`);
  }

  async subscribe(clientToken: string, listener: (value: T) => void): Promise<Unsubscribe> {
    this.#checkOpen();
    if (!TOKEN.test(clientToken)) throw new StoreError('SESSION_UNKNOWN', 'malformed client token');
    let sub = this.#subscriptions.get(clientToken);
    if (sub === undefined) {
      const { channel } = this.keysOf(clientToken);
      const created: Subscription<T> = {
        channel,
        listeners: new Set(),
        lastVersion: 0,
        onMessage: (message) => this.#deliver(clientToken, created, message),
        ready: Promise.resolve(),
      };
      created.ready = this.#call(channel, () => this.#backend.subscribe(channel, created.onMessage));
      sub = created;
      this.#subscriptions.set(clientToken, sub);
      sub.ready.catch(() => {
        if (this.#subscriptions.get(clientToken) === created) this.#subscriptions.delete(clientToken);
      });
    }
    sub.listeners.add(listener);
    try {
      await sub.ready;
    } catch (err) {
      sub.listeners.delete(listener);
      throw err;
    }
    const active = sub;
    return async () => {
      active.listeners.delete(listener);
      if (active.listeners.size > 0 || this.#subscriptions.get(clientToken) !== active) return;
      this.#subscriptions.delete(clientToken);
      if (this.#closed) return;
      try {
        await this.#call(active.channel, () => this.#backend.unsubscribe(active.channel, active.onMessage));
      } catch (err) {
        this.#abandoned.set(active.onMessage, active.channel);
        throw err;
      }
    };
  }

  /**
   * Whether the store can reach Redis right now, without a round trip: false while the
   * connection is down and being re-established (requests then fail at once with UNAVAILABLE).
   */
  get available(): boolean {
    return !this.#closed && this.#backend.isReady();
  }

  /**
   * A Lua script on the store's connections, bounded in time like every store call, for state
   * beside the sessions (process liveness, rate-limit counters). Keys get the store's key prefix;
   * in a cluster, all of them must be in one slot.
   */
  async runScript(text: string, keys: string[], args: string[]): Promise<unknown> {
    const s = script(text);
    const prefixed = keys.map((k) => this.#options.keyPrefix + k);
    return this.#call(prefixed[0], (send) => this.#eval(send, s, prefixed, args));
  }

  /** Fails at once while the connection is known to be down, else within the operation timeout. */
  async ping(): Promise<void> {
    const reply = await this.#call(undefined, (send) => send(['PING']));
    if (reply !== 'PONG') throw new StoreError('UNAVAILABLE', 'unexpected PING reply');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriptions.clear();
    const closing = this.#backend.close().catch(() => {});
    // A graceful close waits for pending replies; a dead server must not keep shutdown hanging.
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.#options.timeoutMs).unref());
    if ((await Promise.race([closing, timer])) === 'timeout') this.#backend.destroy();
  }

  #deliver(clientToken: string, sub: Subscription<T>, message: string): void {
    let decoded: Decoded;
    let value: T;
    try {
      decoded = this.#decode(message, this.keysOf(clientToken).session);
      if (decoded.version <= sub.lastVersion) return;
      value = this.#parse(decoded.json, clientToken);
    } catch (err) {
      this.#logger?.warn({ code: (err as StoreError).code }, 'dropped an undecodable session event');
      return;
    }
    sub.lastVersion = decoded.version;
    let first = true;
    for (const listener of sub.listeners) {
      try {
        // Each listener gets its own copy, so one cannot change what another sees.
        listener(first ? value : this.#parse(decoded.json, clientToken));
      } catch {
        // a listener's own failure is its own business
      }
      first = false;
    }
  }

  /**
   * After subscriptions may have been lost: subscribe again (a no-op where the client kept
   * them) and hand listeners anything committed meanwhile. A subscription that cannot be
   * resynchronised yet (the command connection may come back a moment after the subscriber's)
   * is retried until it is, or gone: no later event is guaranteed to ask again.
   */
  async #resync(): Promise<void> {
    if (this.#resyncing) {
      this.#resyncAgain = true;
      return;
    }
    this.#resyncing = true;
    try {
      let pending = [...this.#subscriptions];
      while (!this.#closed && (pending.length > 0 || this.#abandoned.size > 0)) {
        this.#resyncAgain = false;
        const failed: typeof pending = [];
        let unsubscribed = true;
        for (const [listener, channel] of this.#abandoned) {
          try {
            await this.#call(channel, () => this.#backend.unsubscribe(channel, listener));
            this.#abandoned.delete(listener);
          } catch {
            unsubscribed = false;
          }
        }
        for (const [ct, sub] of pending) {
          if (this.#subscriptions.get(ct) !== sub) continue;
          try {
            await this.#call(sub.channel, () => this.#backend.subscribe(sub.channel, sub.onMessage));
            const read = await this.#read(ct);
            if (read !== undefined && read.version > sub.lastVersion) {
              this.#deliver(ct, sub, `${read.version}:${read.payload}`);
            }
          } catch {
            failed.push([ct, sub]);
          }
        }
        pending = this.#resyncAgain ? [...this.#subscriptions] : failed;
        if (failed.length > 0 || !unsubscribed) await new Promise((r) => setTimeout(r, RESYNC_RETRY_MS).unref());
      }
    } finally {
      this.#resyncing = false;
    }
  }

  async #read(clientToken: string): Promise<(Decoded & { payload: string }) | undefined> {
    if (!TOKEN.test(clientToken)) return undefined;
    const key = this.keysOf(clientToken).session;
    const raw = await this.#call(key, (send) => send(['GET', key]));
    if (raw === null || raw === undefined) return undefined;
    if (typeof raw !== 'string') throw new StoreError('CORRUPT', 'stored session is not a string');
    const decoded = this.#decode(raw, key);
    return { version: decoded.version, json: decoded.json, payload: raw.slice(raw.indexOf(':') + 1) };
  }

  #decode(raw: string, sessionKey: string): Decoded {
    const colon = raw.indexOf(':');
    const version = Number(raw.slice(0, colon));
    if (colon < 1 || !Number.isSafeInteger(version) || version < 1) {
      throw new StoreError('CORRUPT', 'stored session has no version');
    }
    return { version, json: this.#codec.open(raw.slice(colon + 1), sessionKey) };
  }

  #parse(json: string, clientToken: string): T {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (cause) {
      throw new StoreError('CORRUPT', 'stored session is not JSON', { cause });
    }
    if (typeof value !== 'object' || value === null || (value as StoredSession).clientToken !== clientToken) {
      throw new StoreError('CORRUPT', 'stored session does not belong to its key');
    }
    return value as T;
  }

  async #eval(send: (args: string[]) => Promise<unknown>, s: Script, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await send(['EVALSHA', s.sha, ...tail]);
    } catch (err) {
      // A fresh or failed-over server has an empty script cache.
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      return await send(['EVAL', s.text, ...tail]);
    }
  }

  async #waitForReplicas(send: (args: string[]) => Promise<unknown>): Promise<void> {
    const { waitReplicas, waitTimeoutMs } = this.#options;
    const acked = Number(await send(['WAIT', String(waitReplicas), String(waitTimeoutMs)]));
    if (acked < waitReplicas) {
      throw new StoreError('UNAVAILABLE', `write acknowledged by ${acked} of ${waitReplicas} required replicas`);
    }
  }

  /**
   * One round trip, bounded in time, with errors mapped. `oneConnection` keeps several
   * commands on one connection (a lease from the pool), for WAIT after a write.
   */
  async #call<R>(
    key: string | undefined,
    fn: (send: (args: string[]) => Promise<unknown>) => Promise<R>,
    oneConnection = false,
  ): Promise<R> {
    this.#checkOpen();
    // Known down: answer now rather than after a timeout (the client reconnects on its own).
    if (!this.#backend.isReady()) throw new StoreError('UNAVAILABLE', 'Redis connection is down, reconnecting');
    const work =
      oneConnection && key !== undefined
        ? this.#backend.withConnection(key, fn)
        : fn((args) => this.#backend.send(key, args));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreError('UNAVAILABLE', `Redis did not answer within ${this.#options.timeoutMs} ms`)),
        this.#options.timeoutMs,
      );
    });
    work.catch(() => {}); // settled late after the deadline: nobody listens any more
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      this.#backend.noteFailure();
      if (err instanceof StoreError) throw err;
      throw new StoreError('UNAVAILABLE', `Redis error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async #refuseClusterNode(): Promise<void> {
    // A user without INFO permission cannot tell; the first CROSSSLOT/MOVED reply would.
    const info = await this.#call(undefined, (send) => send(['INFO', 'cluster'])).catch(() => '');
    if (typeof info === 'string' && /cluster_enabled:1/.test(info)) {
      throw new RedisConfigError(
        this.#options.acceptInconsistencyRisk
          ? 'the Redis at --redis-addr is a cluster node: use --redis-cluster-addrs'
          : INCONSISTENCY_NOT_ACCEPTED,
      );
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('UNAVAILABLE', 'session store is closed');
  }
}
