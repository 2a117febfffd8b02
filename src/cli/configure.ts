// The steps `server` and `check` share: load the configuration, set up logging, provide the demo
// scheme in development mode, and run the startup checks.
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import { OptionsError, validateOptions, type ServerOptions } from '../server/options.js';
import { loadConfig, type LoadedConfig } from './config.js';
import { createLogger } from './logger.js';
import { redactSecrets } from './redact.js';
import type { CliIo, Env } from './run.js';

export interface Configured {
  options: ServerOptions;
  loaded: LoadedConfig;
  logger: Logger;
}

/** Throws OptionsError (or SchemeError from the demo scheme generation) on a configuration it refuses. */
export async function configure(flags: Record<string, unknown>, env: Env, io: CliIo): Promise<Configured> {
  const loaded = loadConfig({ flags, env, cwd: io.cwd });
  const raw = loaded.options;
  const logger = createLogger(raw, io.stderr);
  logger.info({ mode: raw.production ? 'production' : 'development' }, 'irma-server starting');
  if (raw.verbose >= 2) {
    logger.warn('Logger has been configured to show TRACE messages. These messages may contain untrusted user input and personal data of users. Use this option with care!');
  }
  logger.info(loaded.configFile ? `Config file: ${loaded.configFile}` : 'No configuration file found');
  for (const w of loaded.warnings) logger.warn(w);

  if (loaded.useDemoScheme) {
    const { ensureDemoScheme } = await import('../scheme/demo.js');
    raw.schemesPath = await ensureDemoScheme(loaded.dataDir, { onProgress: (msg) => logger.info(msg) });
    if (loaded.downloadDefaultSchemes) {
      const { provideDefaultSchemes } = await import('./default-schemes.js');
      await provideDefaultSchemes(loaded.dataDir, logger);
    }
    logger.info({ schemesPath: raw.schemesPath }, 'no schemes_path given: using the demo scheme');
  }

  const options = validateOptions(raw);
  assertDirectory(options.schemesPath, (detail) => `Nonexisting schemes_path provided: ${options.schemesPath} (${detail})`);
  if (options.staticPath !== '') assertDirectory(options.staticPath, (detail) => `invalid static_path: ${detail}`);
  if (options.noAuth) {
    logger.warn('Authentication of incoming session requests disabled: anyone who can reach this server can use it');
  }
  if (options.url === '') {
    logger.warn('No url parameter specified in configuration; unless an url is elsewhere prepended in the QR, the IRMA client will not be able to connect');
  } else if (!options.url.startsWith('https://')) {
    logger.warn(`TLS is not enabled on the url "${options.url}" to which the IRMA app will connect. Ensure that attributes are encrypted in transit by either enabling TLS or adding TLS in a reverse proxy.`);
  }
  if (Object.keys(options.staticSessions).length > 0 && options.jwtPrivateKey === undefined) {
    logger.warn('Static sessions enabled and no JWT private key installed. Ensure that POSTs to the callback URLs of static sessions are trustworthy by keeping the callback URLs secret and by using HTTPS.');
  }
  logger.debug({ configuration: redactSecrets(options) }, 'effective configuration');
  return { options, loaded, logger };
}

function assertDirectory(path: string, message: (detail: string) => string): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new OptionsError(message((e as NodeJS.ErrnoException).code ?? (e as Error).message));
  }
  if (!isDir) throw new OptionsError(message('not a directory'));
}
