// Development mode without schemes_path: besides the generated demo scheme, the reference's
// default schemes (irma-demo and pbdf, which the Yivi app knows) are downloaded into the data
// folder when the network allows. Offline, the server says so and runs on the demo scheme alone.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_SCHEMES, installScheme, SchemeDownloadError, type RemoteOptions } from '../scheme/scheme-remote.js';

/** Offline, the first request fails at once (no DNS) or at this deadline; startup never waits longer. */
const FIRST_CONTACT_TIMEOUT_MS = 5_000;

type Logged = Pick<Logger, 'info' | 'warn' | 'debug'>;

/** Resolves to the ids of the schemes it downloaded (none offline, or when all are present). */
export async function provideDefaultSchemes(
  dataDir: string,
  logger: Logged,
  schemes: typeof DEFAULT_SCHEMES = DEFAULT_SCHEMES,
  remote: RemoteOptions = {},
): Promise<string[]> {
  const missing: (typeof DEFAULT_SCHEMES)[number][] = [];
  for (const s of schemes) {
    const id = s.url.slice(s.url.lastIndexOf('/') + 1);
    const present = await stat(join(dataDir, id, 'description.xml')).then(() => true, () => false);
    if (!present) missing.push(s);
  }
  if (missing.length === 0) return [];
  const downloaded: string[] = [];
  for (const [i, s] of missing.entries()) {
    try {
      const timeoutMs = i === 0 && remote.timeoutMs === undefined ? FIRST_CONTACT_TIMEOUT_MS : remote.timeoutMs;
      logger.info({ url: s.url }, 'downloading default scheme');
      const r = await installScheme(dataDir, s.url, { ...remote, timeoutMs, publicKeyPem: s.publicKeyPem, warn: (m) => logger.debug(m) });
      downloaded.push(r.id);
    } catch (e) {
      // No connection at all: offline, so the others will not download either.
      if (e instanceof SchemeDownloadError && e.status === undefined) {
        logger.warn(
          { url: s.url, err: e.message },
          'default schemes (irma-demo, pbdf) not downloaded, the network seems unavailable: using the generated demo scheme only',
        );
        return downloaded;
      }
      logger.warn({ url: s.url, err: (e as Error).message }, 'default scheme not installed');
    }
  }
  if (downloaded.length > 0) logger.info({ schemes: downloaded, dataDir }, 'downloaded default schemes beside the generated demo scheme');
  return downloaded;
}
