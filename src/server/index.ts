// Starting the IRMA server: schemes, session store, Fastify listener(s), logger.
import { networkInterfaces } from 'node:os';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadSchemes } from '../scheme/loader.js';
import type { SchemeRegistry } from '../scheme/types.js';
import { lifetimesFromMinutes } from '../session/lifetimes.js';
import { isFinal, type Session } from '../session/session.js';
import { MemoryStore } from '../store/memory.js';
import type { SessionStore } from '../store/store.js';
import { LocalLiveness, RedisLiveness, runsScripts, type ProcessLiveness } from '../store/process-liveness.js';
import { buildApp, type TlsMaterial } from './app.js';
import { systemClock, type Clock } from './clock.js';
import type { ServerContext } from './context.js';
import type { RevocationService } from '../revocation/service.js';
import { createRevocationService } from './revocation-setup.js';
import { DeadlineWatcher } from './deadlines.js';
import { validateOptionsAgainstSchemes, type ServerOptions } from './options.js';
import type { ProofChecker } from './proof-port.js';
import { ResultSigner } from './result-jwt.js';
import { countCalls } from './checker-calls.js';
import { load } from './session-runner.js';
import { StreamRegistry } from './sse.js';
import { loadConfiguredSdJwtIssuers } from './sdjwt-issuance.js';
import { limitsOf } from './limits.js';
import { boundSessionSize } from './session-size.js';
import { MeteredChecker } from './metered-checker.js';
import { MeteredStore } from './metered-store.js';
import { buildMetricsApp } from './metrics-http.js';
import { ServerMetrics } from './metrics.js';
import { DEFAULT_SHUTDOWN_GRACE_PERIOD, Drain } from './shutdown.js';

export interface RunningServer {
  /** The /irma base URL the app uses. */
  url: string;
  port: number;
  /** http://host:port of the metrics listener, when metrics_port is set. */
  metricsUrl?: string;
  close(opts?: CloseOptions): Promise<void>;
  /** Loads the schemes from disk again and swaps them in (see BuiltServer). */
  reloadSchemes(): Promise<void>;
}

/** How a server stops: `force` aborted (a second signal) cuts the grace period short. */
export interface CloseOptions {
  force?: AbortSignal;
}

/** Parts a caller (or a test) can supply instead of the ones built from the options. */
export interface ServerDeps {
  schemes?: SchemeRegistry;
  store?: SessionStore<Session>;
  clock?: Clock;
  checker?: ProofChecker;
  logger?: Logger;
  /** Routes of a layer below the server (the demo page), added to the main listener. */
  routes?: (app: FastifyInstance, ctx: ServerContext) => void;
  revocation?: RevocationService;
}

export interface BuiltServer {
  ctx: ServerContext;
  /** Serves everything, or only the requestor API when a client port is configured. */
  main: FastifyInstance;
  /** The /irma-only app for the separate client port. */
  client?: FastifyInstance;
  /** /metrics and health checks on metrics_port. */
  metrics?: FastifyInstance;
  /** The port the app's listener got, for the session pointers' default URL. */
  useAppPort(port: number): void;
  /** Stops accepting, lets requests in flight finish (shutdown_grace_period), then closes the rest. */
  close(opts?: CloseOptions): Promise<void>;
  /**
   * Loads the schemes from schemes_path again and replaces the registry (and the checker built on
   * it) in the context; requests in flight finish on the old ones. Throws, changing nothing, when
   * the new schemes do not load or no longer satisfy the configured permissions.
   */
  reloadSchemes(): Promise<void>;
}

function logLevel(o: ServerOptions): string {
  if (o.quiet) return 'error';
  return o.verbose >= 2 ? 'trace' : o.verbose === 1 ? 'debug' : 'info';
}

function localIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * The app's base URL, ending in `/irma/`. Accepts the url as configured or as validateOptions
 * normalised it (already ending in `irma/`); without one, the development default on the app's
 * port. When the app's listener has TLS the scheme is https, as the reference does.
 */
export function irmaBaseUrl(url: string, port: number, tls: boolean): string {
  let base = (url !== '' ? url : `http://${localIPv4()}:port`).replace(/\/+$/, '');
  base = base.replace(/^(https?:\/\/[^/]*):port/, `$1:${port}`);
  if (tls) base = base.replace(/^http:/, 'https:');
  return base.endsWith('/irma') ? `${base}/` : `${base}/irma/`;
}

interface OwnedChecker {
  checker: ProofChecker;
  close(): Promise<void>;
  idle?(): Promise<void>;
}

/**
 * With crypto_workers > 0 the checker runs on worker threads that load the schemes from the
 * configured paths themselves, except ordinary proofs while this thread has time to spare
 * (nearby-checker.ts); otherwise on this thread over the server's registry.
 */
async function defaultChecker(o: ServerOptions, schemes: SchemeRegistry, logger: Logger): Promise<OwnedChecker> {
  if (o.cryptoWorkers) {
    const { ProofWorkerPool } = await import('./proof-workers.js');
    const pool = await ProofWorkerPool.start({
      schemes: { schemesPath: o.schemesPath, privateKeysPath: o.privkeys },
      size: o.cryptoWorkers,
      // Started by the first session instead: an idle server holds no worker's memory.
      startWorkers: 0,
      logger,
    });
    const { NearbyChecker } = await import('./nearby-checker.js');
    const { createProofChecker } = await import('./proof-checker.js');
    return { checker: new NearbyChecker(createProofChecker(schemes, { logger }), pool), close: () => pool.close() };
  }
  const { createProofChecker } = await import('./proof-checker.js');
  return { checker: createProofChecker(schemes, { logger }), close: async () => undefined };
}

async function countedChecker(o: ServerOptions, schemes: SchemeRegistry, logger: Logger): Promise<OwnedChecker> {
  const owned = await defaultChecker(o, schemes, logger);
  const counted = countCalls(owned.checker);
  return { checker: counted.checker, close: owned.close, idle: counted.idle };
}

async function defaultStore(o: ServerOptions, logger: Logger): Promise<SessionStore<Session>> {
  if (o.storeType !== 'redis') return new MemoryStore<Session>();
  const { RedisStore } = await import('../store/redis.js');
  return RedisStore.connect<Session>(o.redis, { logger });
}

/** Builds the apps without listening (Fastify inject in tests). */
export async function createServer(options: ServerOptions, deps: ServerDeps = {}): Promise<BuiltServer> {
  const logger = deps.logger ?? pino({ level: logLevel(options) });
  const schemes =
    deps.schemes ?? (await loadSchemes({ schemesPath: options.schemesPath, privateKeysPath: options.privkeys }));
  const sdjwtIssuers = options.sdjwtvc ? await loadConfiguredSdJwtIssuers(options.sdjwtvc, logger) : undefined;
  const store = deps.store ?? (await defaultStore(options, logger));
  const clock = deps.clock ?? systemClock;
  let owned: OwnedChecker | undefined;
  let liveness: ProcessLiveness | undefined;
  let revocation: RevocationService | undefined;
  try {
    liveness = runsScripts(store) ? await RedisLiveness.start(store, logger) : new LocalLiveness();
    revocation = deps.revocation ?? (await createRevocationService(options, schemes, logger, clock));
    if (!deps.checker) owned = await countedChecker(options, schemes, logger);
  } catch (err) {
    await liveness?.close();
    if (!deps.revocation) await revocation?.close();
    if (!deps.store) await store.close();
    throw err;
  }
  const metrics = new ServerMetrics();
  const lifetimes = lifetimesFromMinutes(options.maxSessionLifetime, options.sessionResultLifetime);
  let port = options.clientPort || options.port;
  let irmaUrlOf: { port: number; url: string } | undefined;
  const separate = options.clientPort > 0;
  const mainTls = tlsOf(options.tlsCert, options.tlsPrivkey);
  const clientTls = separate ? tlsOf(options.clientTlsCert, options.clientTlsPrivkey) : mainTls;
  const ctx: ServerContext = {
    options,
    schemes,
    store: new MeteredStore(boundSessionSize(store, limitsOf(options).maxSessionSize), metrics),
    clock,
    lifetimes,
    checker: new MeteredChecker(deps.checker ?? owned!.checker, metrics),
    metrics,
    signer: options.jwtPrivateKey ? new ResultSigner(options.jwtPrivateKey, options.jwtIssuer) : undefined,
    // Asked on every session start; the port only changes once, when the listener is bound.
    irmaUrl: () => {
      if (irmaUrlOf?.port !== port) irmaUrlOf = { port, url: irmaBaseUrl(options.url, port, clientTls !== undefined) };
      return irmaUrlOf.url;
    },
    log: logger,
    sdjwtIssuers,
    liveness: liveness!,
    ...(runsScripts(store) ? { scripts: store } : {}),
    revocation,
    deadlines: new DeadlineWatcher(lifetimes, clock, async (ct) => {
      const session = await load(ctx, ct);
      if (!isFinal(session.status)) ctx.deadlines.watch(session);
    }),
  };
  const streams = new StreamRegistry(limitsOf(options));
  metrics.watch({ sseListeners: () => streams.size });
  const main = buildApp(ctx, separate ? 'requestor' : 'all', streams, mainTls);
  const client = separate ? buildApp(ctx, 'client', streams, clientTls) : undefined;
  deps.routes?.(main, ctx);
  const metricsApp = options.metricsPort ? buildMetricsApp(metrics, ctx.store, logger) : undefined;
  const drain = new Drain();
  drain.watch(main);
  if (client) drain.watch(client);
  return {
    ctx,
    main,
    client,
    metrics: metricsApp,
    useAppPort(p: number) {
      port = p;
    },
    async reloadSchemes() {
      const next = await loadSchemes({ schemesPath: options.schemesPath, privateKeysPath: options.privkeys });
      validateOptionsAgainstSchemes(options, next);
      const nextOwned = deps.checker ? undefined : await countedChecker(options, next, logger);
      const previous = owned;
      ctx.schemes = next;
      if (nextOwned) {
        owned = nextOwned;
        ctx.checker = new MeteredChecker(nextOwned.checker, metrics);
      }
      if (previous && previous !== owned) await previous.idle?.().then(() => previous.close());
    },
    async close(opts: CloseOptions = {}) {
      const graceMs = (options.shutdownGracePeriod ?? DEFAULT_SHUTDOWN_GRACE_PERIOD) * 1000;
      const { forced } = await drain.close(client ? [main, client] : [main], {
        graceMs,
        endStreams: () => streams.closeAll(),
        force: opts.force,
      });
      if (forced) logger.warn('requests still running when the grace period ended were cut off');
      await metricsApp?.close();
      ctx.deadlines.close();
      await owned?.close();
      // After the drain: claims of requests cut off at its end are taken over at once elsewhere.
      await ctx.liveness.close();
      if (!deps.revocation) await revocation?.close();
      if (!deps.store) await store.close();
    },
  };
}

export async function startServer(options: ServerOptions, deps: ServerDeps = {}): Promise<RunningServer> {
  const built = await createServer(options, deps);
  const host = (addr: string) => (addr === '' ? '0.0.0.0' : addr);
  try {
    await quietListen(built.main, options.port, host(options.listenAddr));
    if (built.client) await quietListen(built.client, options.clientPort, host(options.clientListenAddr));
    if (built.metrics) await quietListen(built.metrics, options.metricsPort!, options.metricsListenAddr || '127.0.0.1');
  } catch (err) {
    await built.close();
    throw err;
  }
  const appServer = built.client ?? built.main;
  const address = appServer.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  built.useAppPort(port);
  const url = built.ctx.irmaUrl().replace(/\/$/, '');
  const metricsAddress = built.metrics?.server.address();
  const metricsUrl =
    typeof metricsAddress === 'object' && metricsAddress ? `http://${hostPart(metricsAddress.address)}:${metricsAddress.port}` : undefined;
  return { url, port, metricsUrl, close: (opts) => built.close(opts), reloadSchemes: () => built.reloadSchemes() };
}

function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * Fastify logs one "Server listening" line per interface; the command prints one startup line
 * of its own, with the addresses that matter, instead.
 */
async function quietListen(app: FastifyInstance, port: number, host: string): Promise<void> {
  const level = app.log.level;
  app.log.level = 'silent';
  try {
    await app.listen({ port, host });
  } finally {
    app.log.level = level;
  }
}

function tlsOf(cert: string | undefined, key: string | undefined): TlsMaterial | undefined {
  return cert && key ? { cert, key } : undefined;
}
