// One shape over node-redis' three clients (standalone, Sentinel, Cluster), so the store and the
// health check are written once. Commands are routed by key, which only matters on a cluster.

import { createClient, createCluster, createSentinel, type RedisClientOptions } from '@redis/client';
import type { ConnectionOptions } from 'node:tls';
import { RedisConfigError, type RedisMode, type ResolvedRedisOptions } from './redis-options.js';
import {
  fatalConnectError,
  mayBeTlsPort,
  plainServerMessage,
  speaksPlainRedis,
  speaksTls,
  tlsServerMessage,
} from './redis-connect-errors.js';
import { StoreError } from './store.js';

export interface StoreLogger {
  warn(details: object, message: string): void;
}

export type Send = (args: string[]) => Promise<unknown>;
export type MessageListener = (message: string) => void;

export interface RedisBackend {
  readonly mode: RedisMode;
  /** A command on the master that owns `key` (any master when undefined). */
  send(key: string | undefined, args: string[]): Promise<unknown>;
  /** Runs several commands on one connection to the master owning `key` (WAIT counts that connection's writes). */
  withConnection<R>(key: string, fn: (send: Send) => Promise<R>): Promise<R>;
  subscribe(channel: string, listener: MessageListener): Promise<void>;
  unsubscribe(channel: string, listener: MessageListener): Promise<void>;
  /** The publish command matching `subscribe`: sharded on a cluster so the channel lives on the session's slot. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  /**
   * Called when subscriptions may have been lost or messages missed (a subscriber connection
   * came back, or cluster slots moved): the store re-subscribes and re-reads.
   */
  onSubscriberReconnect(fn: () => void): void;
  /** A command failed or timed out: a hint that the topology may have changed. */
  noteFailure(): void;
  /**
   * Whether the connection for ordinary commands is up right now. While it is not, commands
   * fail at once (the offline queue is off), so this is what a readiness check reports.
   */
  isReady(): boolean;
  /** Every master and replica reachable, for the health check: a command per node. */
  eachNode(fn: (address: string, send: Send) => Promise<void>): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

export interface BackendEvents {
  onError(err: unknown): void;
}

// Reconnect soon after Redis is back, however long it was away (the delay never grows past
// half a second), with jitter, so a fleet of processes does not reconnect in lockstep. Every
// failure is retried: giving up would leave the process broken until it is restarted.
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 500) + Math.floor(Math.random() * 100);
}

/** Longer than any reconnect delay: a subscriber that lost its connection has its next attempt by then. */
const SUBSCRIBER_CATCH_UP_MS = 1000;

function socketOptions(o: ResolvedRedisOptions, host?: string, port?: number) {
  const common = { connectTimeout: o.timeoutMs, reconnectStrategy: reconnectDelay, host, port };
  return o.tls === false ? { ...common, tls: false as const } : { ...(o.tls as ConnectionOptions), ...common, tls: true as const };
}

/** Commands one connection holds unanswered or unsent; past it a command fails at once (UNAVAILABLE). */
const MAX_QUEUED_COMMANDS = 10_000;

function clientOptions(o: ResolvedRedisOptions): RedisClientOptions {
  return {
    username: o.username,
    password: o.password,
    // While a connection is down, commands fail at once instead of waiting in the offline queue:
    // the request gets its 503 now, and nothing its caller gave up on is replayed on the next
    // connection.
    disableOfflineQueue: true,
    // No per-command timeout: the store bounds every operation itself (RedisStore's #call), and
    // node-redis's costs an AbortSignal.timeout per command whose timer still fires, building a
    // DOMException, seconds after the reply came (~30 µs of CPU a command, 6 commands a
    // session). What a Redis that stops answering leaves queued is bounded here instead.
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    disableClientInfo: true,
  };
}

/** The backend for the mode; not connected yet, so the caller can bound and abandon the connect. */
function createBackend(o: ResolvedRedisOptions, events: BackendEvents): ConnectableBackend {
  return o.mode === 'standalone' ? standalone(o, events) : o.mode === 'sentinel' ? sentinel(o, events) : cluster(o, events);
}

type ConnectableBackend = RedisBackend & { connect(): Promise<void> };

function standalone(o: ResolvedRedisOptions, events: BackendEvents): ConnectableBackend {
  const { host, port } = o.nodes[0];
  const client = createClient({ ...clientOptions(o), database: o.db, socket: socketOptions(o, host, port) });
  client.on('error', events.onError);
  let subscriber: ReturnType<typeof client.duplicate> | undefined;
  let subscriberReady: Promise<unknown> | undefined;
  const reconnectHooks: Array<() => void> = [];

  // The subscriber connection is opened on first use: most processes that never serve SSE
  // or the check command never need it.
  const sub = async () => {
    if (subscriber === undefined) {
      const s = client.duplicate();
      subscriber = s;
      s.on('error', events.onError);
      let connectedOnce = false;
      s.on('ready', () => {
        if (connectedOnce) for (const fn of reconnectHooks) fn();
        connectedOnce = true;
      });
      subscriberReady = s.connect().catch((err: unknown) => {
        // let the next subscribe start over with a fresh connection
        if (subscriber === s) subscriber = undefined;
        if (s.isOpen) s.destroy();
        throw err;
      });
    }
    await subscriberReady;
    return subscriber;
  };

  return {
    mode: 'standalone',
    noteFailure: () => {},
    isReady: () => client.isReady,
    publishCommand: 'PUBLISH',
    async connect() {
      await client.connect();
    },
    send: (_key, args) => client.sendCommand(args),
    withConnection: (_key, fn) => fn((args) => client.sendCommand(args)),
    async subscribe(channel, listener) {
      await (await sub()).subscribe(channel, listener);
    },
    async unsubscribe(channel, listener) {
      if (subscriber !== undefined) await subscriber.unsubscribe(channel, listener);
    },
    onSubscriberReconnect: (fn) => reconnectHooks.push(fn),
    eachNode: (fn) => fn(`${host}:${port}`, (args) => client.sendCommand(args)),
    async close() {
      await Promise.all([client.close(), subscriber?.close()]);
    },
    destroy() {
      for (const c of [client, subscriber]) if (c?.isOpen) c.destroy();
    },
  };
}

function sentinel(o: ResolvedRedisOptions, events: BackendEvents): ConnectableBackend {
  const node = { ...clientOptions(o), database: o.db, socket: socketOptions(o) };
  const s = createSentinel({
    name: o.sentinelMasterName,
    sentinelRootNodes: o.nodes,
    nodeClientOptions: node,
    sentinelClientOptions: {
      username: o.sentinelUsername,
      password: o.sentinelPassword,
      socket: socketOptions(o),
      disableOfflineQueue: true,
      disableClientInfo: true,
    },
    // Ordinary commands share one reserved, pipelined master connection (node-redis' shared
    // lease can leak leases under concurrency); the others are leased for WAIT after durable
    // writes, so a WAIT does not stall every other request.
    reserveClient: true,
    masterPoolSize: 4,
    // Notice a failover soon after the Sentinels agree on it.
    scanInterval: 1000,
  });
  s.on('error', events.onError);
  // Errors of the Sentinel and data-node connections (a refused password) arrive here.
  s.on('client-error', (event: { error: unknown }) => events.onError(event.error));
  // The client turns not-ready while it follows a new master (or lost every Sentinel) and ready
  // again once its master connections and the pub/sub proxy are on the new node: messages
  // committed in between went to channels nobody listened to yet, so the store re-reads.
  const reconnectHooks: Array<() => void> = [];
  let readyOnce = false;
  s.on('ready', () => {
    if (readyOnce) for (const fn of reconnectHooks) fn();
    readyOnce = true;
  });
  // A master that restarts in place (no failover) changes no topology, and the pub/sub proxy
  // reports nothing when its own connection comes back, so a connection error starts a watch:
  // once the master answers again, and the subscriber has had time to reconnect too, re-read.
  let watching = false;
  const watchRecovery = () => {
    if (watching || !readyOnce) return;
    watching = true;
    const poll = () => {
      if (!s.isOpen) {
        watching = false;
        return;
      }
      s.sendCommand(false, ['PING']).then(
        () => {
          setTimeout(() => {
            watching = false;
            for (const fn of reconnectHooks) fn();
          }, SUBSCRIBER_CATCH_UP_MS).unref();
        },
        () => setTimeout(poll, 250).unref(),
      );
    };
    poll();
  };
  s.on('error', watchRecovery);
  s.on('client-error', watchRecovery);
  return {
    mode: 'sentinel',
    noteFailure: () => {},
    isReady: () => s.isReady,
    publishCommand: 'PUBLISH',
    async connect() {
      await s.connect();
    },
    send: (_key, args) => s.sendCommand(false, args),
    withConnection: (_key, fn) => s.use((c) => fn((args) => c.sendCommand(false, args))),
    async subscribe(channel, listener) {
      await s.subscribe(channel, listener);
    },
    async unsubscribe(channel, listener) {
      await s.unsubscribe(channel, listener as Parameters<typeof s.unsubscribe>[1], false);
    },
    onSubscriberReconnect: (fn) => reconnectHooks.push(fn),
    async eachNode(fn) {
      const master = s.getMasterNode();
      if (master !== undefined) await fn(`${master.host}:${master.port}`, (args) => s.sendCommand(false, args));
    },
    async close() {
      await s.close();
    },
    destroy() {
      void s.destroy().catch(() => {});
    },
  };
}

function cluster(o: ResolvedRedisOptions, events: BackendEvents): ConnectableBackend {
  const c = createCluster({
    rootNodes: o.nodes.map(({ host, port }) => ({ socket: { host, port } })),
    defaults: { ...clientOptions(o), socket: socketOptions(o) },
    maxCommandRedirections: 8,
  });
  c.on('error', events.onError);
  c.on('node-error', events.onError);
  const reconnectHooks: Array<() => void> = [];

  // node-redis only re-reads the slot map on a MOVED reply; a master that died answers
  // nothing, so its slots would stay pointed at it forever. Re-read the map whenever a node
  // connection is lost or a command failed, until the replica's promotion shows up, and then
  // let the store re-subscribe channels whose shard moved (their old connection is dropped).
  let refreshing = false;
  let lastRefresh = 0;
  const refresh = () => {
    const now = Date.now();
    if (refreshing || now - lastRefresh < 250 || !c.isOpen) return;
    const start = c.masters.find((m) => m.client?.isReady)?.client;
    if (start === undefined) return;
    refreshing = true;
    lastRefresh = now;
    c._slots
      .rediscover(start)
      .then(() => {
        for (const fn of reconnectHooks) fn();
      })
      .catch(events.onError)
      .finally(() => {
        refreshing = false;
      });
  };
  c.on('node-reconnecting', refresh);
  // A node (or its pub/sub connection) that comes back may have missed what was committed while
  // the store could not reach it; node-redis re-subscribes, the store re-reads. A first connection
  // (a pub/sub client opened on demand) has missed nothing.
  const reconnecting = new Set<string>();
  c.on('node-reconnecting', (node: { host: string; port: number }) => reconnecting.add(`${node.host}:${node.port}`));
  c.on('node-ready', (node: { host: string; port: number }) => {
    if (!reconnecting.delete(`${node.host}:${node.port}`)) return;
    for (const fn of reconnectHooks) fn();
  });
  return {
    mode: 'cluster',
    noteFailure: refresh,
    isReady: () => c.isReady,
    publishCommand: 'SPUBLISH',
    async connect() {
      await c.connect();
    },
    send: (key, args) => c.sendCommand(key, false, args),
    withConnection: (key, fn) => fn((args) => c.sendCommand(key, false, args)),
    async subscribe(channel, listener) {
      await c.sSubscribe(channel, listener);
    },
    async unsubscribe(channel, listener) {
      await c.sUnsubscribe(channel, listener);
    },
    onSubscriberReconnect: (fn) => reconnectHooks.push(fn),
    async eachNode(fn) {
      for (const m of c.masters) {
        const client = await c.nodeClient(m);
        await fn(m.address, (args) => client.sendCommand(args));
      }
    },
    async close() {
      await c.close();
    },
    destroy() {
      if (c.isOpen) c.destroy();
    },
  };
}

/** How long a TLS/plain probe may take: a local or LAN Redis answers in milliseconds. */
const PROBE_MS = 1000;

/**
 * Connects within the operation timeout; the backend keeps reconnecting on its own afterwards.
 * Fails at once, naming the option to change, when Redis refuses the credentials or the TLS
 * certificate; a TLS/plain mismatch is probed for and named as well.
 */
export async function connectBackend(o: ResolvedRedisOptions, logger?: StoreLogger): Promise<RedisBackend> {
  let lastLogged = '';
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  /** The connect is decided (connected or given up): later errors are the running client's business. */
  let settled = false;
  let probing = false;
  const node = o.nodes[0];
  // What the address speaks, asked once: only ever a hint, so its own failures are ignored.
  const probe = (check: () => Promise<boolean>, message: string) => {
    if (probing) return;
    probing = true;
    void check().then((yes) => {
      if (yes && !settled) fail(new RedisConfigError(message));
    });
  };
  const events = {
    onError(err: unknown) {
      // Reconnect attempts repeat the same error; log each distinct one once.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastLogged) logger?.warn({ error: message }, 'Redis connection problem');
      lastLogged = message;
      if (settled) return;
      // Sentinel wraps the connection's error in one naming the node.
      for (let e: unknown = err, depth = 0; e != null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
        const fatal = fatalConnectError(e, o);
        if (fatal !== undefined) return fail(new RedisConfigError(fatal, { cause: e }));
        if (o.tls === false && mayBeTlsPort(e)) probe(() => speaksTls(node, PROBE_MS), tlsServerMessage(node));
      }
    },
  };
  const backend = createBackend(o, events);
  let timer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  const connecting = backend.connect();
  connecting.catch(() => {});
  // A TLS client at a plain Redis hears nothing back: no error to go by, so ask after a moment.
  if (o.tls !== false) {
    probeTimer = setTimeout(() => probe(() => speaksPlainRedis(node, PROBE_MS), plainServerMessage(node)), Math.min(500, o.timeoutMs / 2));
  }
  try {
    await Promise.race([
      connecting,
      failed,
      new Promise<never>((_, reject) => {
        // Anything else keeps being retried: name the last failure, or the operator only learns
        // that it took too long.
        timer = setTimeout(() => {
          const cause = lastLogged === '' ? '' : `: ${lastLogged}`;
          reject(new StoreError('UNAVAILABLE', `cannot connect to Redis within ${o.timeoutMs} ms${cause}`));
        }, o.timeoutMs);
      }),
    ]);
    settled = true;
    return backend;
  } catch (err) {
    settled = true;
    backend.destroy();
    if (err instanceof StoreError || err instanceof RedisConfigError) throw err;
    throw new StoreError('UNAVAILABLE', `cannot connect to Redis: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    clearTimeout(probeTimer);
  }
}
