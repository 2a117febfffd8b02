// `irma-server server`: configure, start, print how to reach the server, run until told to stop.
import { once } from 'node:events';
import { validateOptionsAgainstSchemes, type ServerOptions } from '../server/options.js';
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
  try {
    // Loaded here rather than by the server, so the permission checks that need them run first.
    const { loadSchemes } = await import('../scheme/loader.js');
    const schemes = await loadSchemes({ schemesPath: options.schemesPath, privateKeysPath: options.privkeys });
    validateOptionsAgainstSchemes(options, schemes);
    const { demoPageEnabled, registerDemoRoutes } = await import('../web/demo-routes.js');
    const routes = demoPageEnabled(options) ? registerDemoRoutes : undefined;
    server = await startServer(options, { schemes, logger, routes });
  } catch (e) {
    logger.error(`failed to start server: ${describeStartupError(e)}`);
    return 1;
  }
  logger.info(
    { url: server.url, port: server.port, ...(server.metricsUrl ? { metrics: `${server.metricsUrl}/metrics` } : {}) },
    'server listening',
  );
  // With --log-json the output is for machines: only JSON lines, no text for people.
  if (loaded.useDemoScheme && options.noAuth && !options.logJson) {
    io.stdout.write(firstSessionHint(options, server.port, loaded.dataDir));
  }
  io.onListening?.(server.url);

  await stopRequested(io.signal);
  logger.info('stopping');
  await server.close();
  logger.info('Exiting');
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

async function stopRequested(signal: AbortSignal | undefined): Promise<void> {
  const controller = new AbortController();
  const stops: Promise<unknown>[] = [
    once(process, 'SIGINT', { signal: controller.signal }),
    once(process, 'SIGTERM', { signal: controller.signal }),
  ];
  if (signal) stops.push(signal.aborted ? Promise.resolve() : once(signal, 'abort', { signal: controller.signal }));
  try {
    await Promise.race(stops);
  } finally {
    controller.abort();
    await Promise.allSettled(stops);
  }
}
