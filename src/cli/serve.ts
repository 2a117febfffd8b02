// `irma-server server`: configure, start, print how to reach the server, run until told to stop.
import { once } from 'node:events';
import { demoPageEnabled, registerDemoRoutes } from '../web/demo-routes.js';
import { validateOptionsAgainstSchemes, type ServerOptions } from '../server/options.js';
import { startIdleTrim } from '../server/idle-trim.js';
import { DEFAULT_SHUTDOWN_GRACE_PERIOD } from '../server/shutdown.js';
import { configure, type Configured } from './configure.js';
import { configurationFailure } from './logger.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo, Env } from './run.js';

export async function serveCommand(flags: Record<string, unknown>, env: Env, io: CliIo): Promise<number> {
  let configured: Configured;
  try {
    configured = await configure(flags, env, io);
  } catch (e) {
    io.stderr.write(configurationFailure(describeStartupError(e), flags, env));
    return 1;
  }
  const { options, loaded, logger } = configured;

  const { startServer } = await import('../server/index.js');
  let server: Awaited<ReturnType<typeof startServer>>;
  let startFailed: AbortController | undefined;
  let stopping: Promise<'signal' | 'abort'> | undefined;
  try {
    // Loaded here rather than by the server, so the permission checks that need them run first.
    const { loadSchemes } = await import('../scheme/loader.js');
    const schemes = await loadSchemes({ schemesPath: options.schemesPath, privateKeysPath: options.privkeys });
    validateOptionsAgainstSchemes(options, schemes);
    const routes = demoPageEnabled(options) ? registerDemoRoutes : undefined;
    // 0.6 s (under a second of CPU) before listening, for V8 to compile the request path (src/server/warm-up.ts);
    // IRMA_WARMUP=0 skips it (the tests, which start many short-lived servers).
    if (process.env.IRMA_WARMUP !== '0') {
      const { warmUp } = await import('../server/warm-up.js');
      const warmed = await warmUp(schemes, options.limits, undefined, (err) =>
        logger.debug({ reason: err instanceof Error ? err.message : String(err) }, 'warm-up stopped early'),
      );
      if (warmed) logger.debug({ sessions: warmed.sessions, ms: Math.round(warmed.ms) }, 'warmed up');
    }
    // Listening for the stop signals before the listener opens: what follows it below awaits
    // (modules loaded on demand), and a signal in such a moment would find no handler and kill
    // the process outright. One that comes while the server starts stops it once it has.
    startFailed = new AbortController();
    stopping = stopRequested(io.signal, startFailed.signal);
    server = await startServer(options, { schemes, logger, routes });
  } catch (e) {
    startFailed?.abort();
    await stopping;
    logger.error(`failed to start server: ${describeStartupError(e)}`);
    return 1;
  }
  logger.info(
    { url: server.url, port: server.port, ...(server.metricsUrl ? { metrics: `${server.metricsUrl}/metrics` } : {}) },
    'server listening',
  );
  await reportNativeAcceleration(logger);
  // With --log-json the output is for machines: only JSON lines, no text for people.
  if (loaded.useDemoScheme && options.noAuth && !options.logJson) {
    io.stdout.write(firstSessionHint(options, server.port, loaded.dataDir));
  }
  io.onListening?.(server.url);
  const updater = await startSchemeUpdater(options, loaded.useDemoScheme, server, logger);
  const trim = startIdleTrim();

  const by = await stopping!;
  logger.info({ gracePeriod: options.shutdownGracePeriod ?? DEFAULT_SHUTDOWN_GRACE_PERIOD }, 'stopping: finishing requests in flight');
  await updater?.stop();
  trim.stop();
  // A second signal means: stop now.
  const force = new AbortController();
  const stopNow = stopRequested(undefined, force.signal).then(() => force.abort());
  await server.close({ force: force.signal });
  force.abort();
  await stopNow;
  logger.info('Exiting');
  // Work cut off at the end of the grace period (an outbound call, say) could keep the event loop
  // alive; a process told to stop by a signal does not wait for it. (In-process callers stop by
  // io.signal and keep their process.)
  if (by === 'signal') setTimeout(() => process.exit(process.exitCode ?? 0), EXIT_DELAY_MS).unref();
  return 0;
}

/**
 * How to try the demo from another terminal: the requestor command starts each session and prints
 * its QR code and pointer; the headless holder (in the role of the app) completes it.
 */
export function firstSessionHint(options: ServerOptions, port: number, dataDir: string): string {
  const server = `http://localhost:${port}${options.apiPrefix.replace(/\/$/, '')}`;
  const dir = `--data-dir '${dataDir}'`;
  return [
    '',
    'Development mode with the generated demo scheme and no requestor authentication.',
    ...(demoPageEnabled(options) ? [`The demo page, in a browser: http://localhost:${port}/`] : []),
    'A first session, in another terminal: the requestor prints a QR code for the Yivi app and the session pointer,',
    'then waits; in a third terminal the headless holder plays the app with that pointer.',
    '',
    `  npx irma-server session ${dir} --server ${server} --issue demo.Example.person=Alice,Example,,yes`,
    `  npx irma-server wallet ${dir} '<the session pointer it printed>'`,
    '',
    `  npx irma-server session ${dir} --server ${server} --disclose demo.Example.person.firstname`,
    `  npx irma-server wallet ${dir} '<the session pointer it printed>'`,
    '',
  ].join('\n');
}

async function startSchemeUpdater(
  options: ServerOptions,
  demo: boolean,
  server: { reloadSchemes(): Promise<void> },
  logger: Configured['logger'],
): Promise<{ stop(): Promise<void> } | undefined> {
  const minutes = options.schemesUpdate ?? 60;
  if (minutes === 0) return undefined;
  const { SchemeUpdater } = await import('../server/scheme-updater.js');
  logger.info(`updating schemes every ${minutes} minutes`);
  // The generated demo scheme is published nowhere: there is nothing to update it from.
  const updater = new SchemeUpdater({
    schemesPath: options.schemesPath,
    intervalMinutes: minutes,
    reload: () => server.reloadSchemes(),
    log: logger,
    skip: demo ? new Set(['demo']) : undefined,
  });
  updater.start();
  return updater;
}

/** After stopping, how long the event loop may still run before the process exits anyway. */
const EXIT_DELAY_MS = 1000;

/** Resolves on SIGINT or SIGTERM ('signal'), or when `signal` or `cancel` aborts ('abort'). */
async function stopRequested(signal: AbortSignal | undefined, cancel?: AbortSignal): Promise<'signal' | 'abort'> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => once(process, name, { signal: controller.signal }).then(() => 'signal' as const);
  const onAbort = (s: AbortSignal) =>
    s.aborted ? Promise.resolve('abort' as const) : once(s, 'abort', { signal: controller.signal }).then(() => 'abort' as const);
  const stops: Promise<'signal' | 'abort'>[] = [onSignal('SIGINT'), onSignal('SIGTERM')];
  if (signal) stops.push(onAbort(signal));
  if (cancel) stops.push(onAbort(cancel));
  try {
    return await Promise.race(stops);
  } finally {
    controller.abort();
    await Promise.allSettled(stops);
  }
}

/**
 * Without the native accelerator a verification costs ~3x the CPU; its build is an install script,
 * which a package manager may skip or an operator may not have approved, so say so at start.
 */
async function reportNativeAcceleration(logger: Configured['logger']): Promise<void> {
  const { nativeAcceleration } = await import('../idemix/modexp.js');
  if (nativeAcceleration()) return;
  if (process.env.IRMA_NATIVE === '0') {
    logger.info('Idemix native accelerator disabled by IRMA_NATIVE=0: proofs are checked with node:crypto alone');
    return;
  }
  logger.warn(
    'Idemix native accelerator not built: proofs are checked with node:crypto alone, at about 3x the CPU. ' +
      'It is built by the package\'s install script (python3, make and a C compiler): npm rebuild irma-server-ts',
  );
}
