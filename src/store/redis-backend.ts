// One shape over node-redis' three clients (standalone, Sentinel, Cluster), so the store and the
// health check are written once. Commands are routed by key, which only matters on a cluster.

import { createClient, createCluster, createSentinel, type RedisClientOptions } from 'redis';
import type { ConnectionOptions } from 'node:tls';
import type { RedisMode, ResolvedRedisOptions } from './redis-options.js';
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
  /** Every master and replica reachable, for the health check: a command per node. */
  eachNode(fn: (address: string, send: Send) => Promise<void>): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

export interface BackendEvents {
  onError(err: unknown): void;
}

// Reconnect quickly (the store fails requests meanwhile, it does not queue them for long) with
// jitter, so a fleet of processes does not reconnect in lockstep.
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100);
}

function socketOptions(o: ResolvedRedisOptions, host?: string, port?: number) {
  const common = { connectTimeout: o.timeoutMs, reconnectStrategy: reconnectDelay, host, port };
  return o.tls === false ? { ...common, tls: false as const } : { ...(o.tls as ConnectionOptions), ...common, tls: true as const };
}

function clientOptions(o: ResolvedRedisOptions): RedisClientOptions {
  return {
    username: o.username,
    password: o.password,
    // Commands wait in the offline queue during a reconnect only as long as an operation may take.
    commandOptions: { timeout: o.timeoutMs },
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
  return {
    mode: 'sentinel',
    noteFailure: () => {},
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
    // The Sentinel client's pub/sub proxy follows the master on its own; it does not report
    // reconnects, so nothing is resynchronised there.
    onSubscriberReconnect: () => {},
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
  return {
    mode: 'cluster',
    noteFailure: refresh,
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

/** Connects within the operation timeout; the backend keeps reconnecting on its own afterwards. */
export async function connectBackend(o: ResolvedRedisOptions, logger?: StoreLogger): Promise<RedisBackend> {
  let lastLogged = '';
  const events = {
    onError(err: unknown) {
      // Reconnect attempts repeat the same error; log each distinct one once.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastLogged) logger?.warn({ error: message }, 'Redis connection problem');
      lastLogged = message;
    },
  };
  const backend = createBackend(o, events);
  let timer: NodeJS.Timeout | undefined;
  const connecting = backend.connect();
  connecting.catch(() => {});
  try {
    await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        // The client keeps retrying through a wrong password or an untrusted certificate: name
        // the last failure, or the operator only learns that it took too long.
        timer = setTimeout(() => {
          const cause = lastLogged === '' ? '' : `: ${lastLogged}`;
          reject(new StoreError('UNAVAILABLE', `cannot connect to Redis within ${o.timeoutMs} ms${cause}`));
        }, o.timeoutMs);
      }),
    ]);
    return backend;
  } catch (err) {
    backend.destroy();
    if (err instanceof StoreError) throw err;
    throw new StoreError('UNAVAILABLE', `cannot connect to Redis: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
