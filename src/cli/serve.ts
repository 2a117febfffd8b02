// `irma-server server`: configure, start, print how to reach the server, run until told to stop.
import { once } from 'node:events';
import { validateOptionsAgainstSchemes, type ServerOptions } from '../server/options.js';
import { DEFAULT_SHUTDOWN_GRACE_PERIOD } from '../server/shutdown.js';
import { configure, type Configured } from './configure.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo, Env } from './run.js';

export async function serveCommand(flags: Record<string, unknown>, env: Env, io: CliIo): Promise<number> {
  let configured: Configured;
  try {
    configured = await configure(flags, env, io);
  } catch (e) {
    io.stderr.write(`irma-server: failed to read configuration: ${describeStartupError(e)}\n`);
    return 1;
  }
  const { options, loaded, logger } = configured;

  const { startServer } = await import('../server/index.js');
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    // Loaded here rather than by the server, so the permission checks that need them run first.
    const { loadSchemes } = await import('../scheme/loader.js');
    const schemes = await loadSchemes({ schemesPath: options.schemesPath, privateKeysPath: options.privkeys });
    validateOptionsAgainstSchemes(options, schemes);
    server = await startServer(options, { schemes, logger });
  } catch (e) {
    logger.error(`failed to start server: ${describeStartupError(e)}`);
    return 1;
  }
  logger.info({ url: server.url, port: server.port }, 'server listening');
  if (loaded.useDemoScheme && options.noAuth) io.stdout.write(firstSessionHint(options, server.port, loaded.dataDir));
  io.onListening?.(server.url);

  const by = await stopRequested(io.signal);
  logger.info({ gracePeriod: options.shutdownGracePeriod ?? DEFAULT_SHUTDOWN_GRACE_PERIOD }, 'stopping: finishing requests in flight');
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
 * How to try the demo: issue a credential, then disclose it, each started with curl (the
 * requestor) and completed by the headless client (in the role of the app), with this data dir.
 */
export function firstSessionHint(options: ServerOptions, port: number, dataDir: string): string {
  const base = `http://localhost:${port}${options.apiPrefix.replace(/\/$/, '')}`;
  const issuance = JSON.stringify({
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [
      { credential: 'demo.Example.person', attributes: { firstname: 'Alice', familyname: 'Example', over18: 'yes' } },
    ],
  });
  const disclosure = JSON.stringify({
    '@context': 'https://irma.app/ld/request/disclosure/v2',
    disclose: [[['demo.Example.person.firstname', 'demo.Example.person.over18']]],
  });
  const session = (request: string) => [
    `  curl -s -X POST ${base}/session -H 'Content-Type: application/json' \\`,
    `    -d '${request}' \\`,
    `    | npx irma-server session --data-dir '${dataDir}' -`,
  ];
  return [
    '',
    'Development mode with the generated demo scheme and no requestor authentication.',
    'A first session: issue a demo credential, then disclose it; the headless client plays the app:',
    '',
    ...session(issuance),
    ...session(disclosure),
    '',
    'A requestor follows a session with the token of its session package:',
    `  curl -s ${base}/session/<token>/status      and      curl -s ${base}/session/<token>/result`,
    '',
  ].join('\n');
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
