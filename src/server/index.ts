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
import { buildApp, type TlsMaterial } from './app.js';
import { systemClock, type Clock } from './clock.js';
import type { ServerContext } from './context.js';
import type { RevocationService } from '../revocation/service.js';
import { createRevocationService } from './revocation-setup.js';
import { DeadlineWatcher } from './deadlines.js';
import type { ServerOptions } from './options.js';
import type { ProofChecker } from './proof-port.js';
import { ResultSigner } from './result-jwt.js';
import { load } from './session-runner.js';
import { StreamRegistry } from './sse.js';

export interface RunningServer {
  /** The /irma base URL the app uses. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Parts a caller (or a test) can supply instead of the ones built from the options. */
export interface ServerDeps {
  schemes?: SchemeRegistry;
  store?: SessionStore<Session>;
  clock?: Clock;
  checker?: ProofChecker;
  logger?: Logger;
  revocation?: RevocationService;
}

export interface BuiltServer {
  ctx: ServerContext;
  /** Serves everything, or only the requestor API when a client port is configured. */
  main: FastifyInstance;
  /** The /irma-only app for the separate client port. */
  client?: FastifyInstance;
  /** The port the app's listener got, for the session pointers' default URL. */
  useAppPort(port: number): void;
  close(): Promise<void>;
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
}

/**
 * With crypto_workers > 0 the checker runs on worker threads that load the schemes from the
 * configured paths themselves; otherwise on this thread over the server's registry.
 */
async function defaultChecker(o: ServerOptions, schemes: SchemeRegistry, logger: Logger): Promise<OwnedChecker> {
  if (o.cryptoWorkers) {
    const { ProofWorkerPool } = await import('./proof-workers.js');
    const pool = await ProofWorkerPool.start({
      schemes: { schemesPath: o.schemesPath, privateKeysPath: o.privkeys },
      size: o.cryptoWorkers,
      logger,
    });
    return { checker: pool, close: () => pool.close() };
  }
  const { createProofChecker } = await import('./proof-checker.js');
  return { checker: createProofChecker(schemes, { logger }), close: async () => undefined };
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
  const store = deps.store ?? (await defaultStore(options, logger));
  const clock = deps.clock ?? systemClock;
  let owned: OwnedChecker | undefined;
  let revocation: RevocationService | undefined;
  try {
    revocation = deps.revocation ?? (await createRevocationService(options, schemes, logger, clock));
    if (!deps.checker) owned = await defaultChecker(options, schemes, logger);
  } catch (err) {
    if (!deps.revocation) await revocation?.close();
    if (!deps.store) await store.close();
    throw err;
  }
  const lifetimes = lifetimesFromMinutes(options.maxSessionLifetime, options.sessionResultLifetime);
  let port = options.clientPort || options.port;
  const separate = options.clientPort > 0;
  const mainTls = tlsOf(options.tlsCert, options.tlsPrivkey);
  const clientTls = separate ? tlsOf(options.clientTlsCert, options.clientTlsPrivkey) : mainTls;
  const ctx: ServerContext = {
    options,
    schemes,
    store,
    clock,
    lifetimes,
    checker: deps.checker ?? owned!.checker,
    signer: options.jwtPrivateKey ? new ResultSigner(options.jwtPrivateKey, options.jwtIssuer) : undefined,
    irmaUrl: () => irmaBaseUrl(options.url, port, clientTls !== undefined),
    log: logger,
    revocation,
    deadlines: new DeadlineWatcher(lifetimes, clock, async (ct) => {
      const session = await load(ctx, ct);
      if (!isFinal(session.status)) ctx.deadlines.watch(session);
    }),
  };
  const streams = new StreamRegistry();
  const main = buildApp(ctx, separate ? 'requestor' : 'all', streams, mainTls);
  const client = separate ? buildApp(ctx, 'client', streams, clientTls) : undefined;
  return {
    ctx,
    main,
    client,
    useAppPort(p: number) {
      port = p;
    },
    async close() {
      ctx.deadlines.close();
      streams.closeAll();
      await Promise.all([main.close(), client?.close()]);
      await owned?.close();
      if (!deps.revocation) await revocation?.close();
      if (!deps.store) await store.close();
    },
  };
}

export async function startServer(options: ServerOptions, deps: ServerDeps = {}): Promise<RunningServer> {
  const built = await createServer(options, deps);
  const host = (addr: string) => (addr === '' ? '0.0.0.0' : addr);
  try {
    await built.main.listen({ port: options.port, host: host(options.listenAddr) });
    if (built.client) await built.client.listen({ port: options.clientPort, host: host(options.clientListenAddr) });
  } catch (err) {
    await built.close();
    throw err;
  }
  const appServer = built.client ?? built.main;
  const address = appServer.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  built.useAppPort(port);
  const url = built.ctx.irmaUrl().replace(/\/$/, '');
  built.ctx.log.info({ url }, 'IRMA server listening');
  return { url, port, close: () => built.close() };
}

function tlsOf(cert: string | undefined, key: string | undefined): TlsMaterial | undefined {
  return cert && key ? { cert, key } : undefined;
}
