// `irma-server check`: everything the server checks at startup, without listening: configuration,
// schemes against the permissions, and (for the Redis store) a real connection to Redis.
import { validateOptionsAgainstSchemes, type ServerOptions } from '../server/options.js';
import { resolveRedisOptions } from '../store/redis-options.js';
import { configure } from './configure.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo, Env } from './run.js';

export async function checkCommand(flags: Record<string, unknown>, env: Env, io: CliIo): Promise<number> {
  const out = (line: string) => io.stdout.write(line + '\n');
  let options: ServerOptions;
  try {
    const configured = await configure(flags, env, io);
    options = configured.options;
    out(`configuration file: ${configured.loaded.configFile ?? '(none)'}`);
    out(`mode: ${options.production ? 'production' : 'development'}`);
    out(`url: ${options.url || '(none)'}`);
    out(`requestor authentication: ${options.noAuth ? 'disabled' : `${Object.keys(options.requestors).length} requestor(s)`}`);
  } catch (e) {
    out(`configuration: FAILED: ${describeStartupError(e)}`);
    return 1;
  }

  let ok = true;
  try {
    const { loadSchemes } = await import('../scheme/loader.js');
    const schemes = await loadSchemes({ schemesPath: options.schemesPath, privateKeysPath: options.privkeys });
    out(
      `schemes: ${options.schemesPath}: ${[...schemes.schemes.keys()].join(', ') || '(none)'} ` +
        `(${schemes.issuers.size} issuers, ${schemes.credentialTypes.size} credential types)`,
    );
    validateOptionsAgainstSchemes(options, schemes);
    out('permissions: OK');
  } catch (e) {
    out(`schemes: FAILED: ${describeStartupError(e)}`);
    ok = false;
  }

  if (options.storeType === 'redis') {
    ok = (await checkRedis(options, out)) && ok;
  } else {
    out('store: memory (sessions are lost on restart and not shared between processes)');
  }

  out(ok ? 'OK' : 'FAILED');
  return ok ? 0 : 1;
}

async function checkRedis(options: ServerOptions, out: (line: string) => void): Promise<boolean> {
  try {
    const resolved = resolveRedisOptions(options.redis);
    out(`store: redis: mode ${resolved.mode}, nodes ${resolved.nodes.map((n) => `${n.host}:${n.port}`).join(', ')}`);
    out(`store: redis: TLS ${resolved.tls === false ? 'off' : resolved.tls.ca ? 'on (own CA)' : 'on (system roots)'}, ` +
      `user ${resolved.username ?? 'default'}, key prefix "${resolved.keyPrefix}"`);
    out(`store: redis: encryption ${options.redis.storeEncryptionKeys?.length ? `on (key ${options.redis.storeEncryptionKeys[0].id})` : 'off'}`);
    const { RedisStore } = await import('../store/redis.js');
    // connect() validates, connects and round-trips, so reaching this line means Redis answers.
    const store = await RedisStore.connect(options.redis);
    try {
      await store.ping();
    } finally {
      await store.close();
    }
    out('store: redis: reachable');
    return true;
  } catch (e) {
    out(`store: redis: FAILED: ${describeStartupError(e)}`);
    return false;
  }
}

/** `key: value` lines of a plain report object, nested objects flattened with dots. */
export function describeLines(report: object, prefix = ''): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(report)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      if (v.length === 0) lines.push(`${prefix}${k}: (none)`);
      for (const item of v) {
        if (typeof item === 'object' && item !== null) lines.push(`${prefix}${k}: ${JSON.stringify(item)}`);
        else lines.push(`${prefix}${k}: ${String(item)}`);
      }
    } else if (typeof v === 'object' && v !== null) {
      lines.push(...describeLines(v, `${prefix}${k}.`));
    } else {
      lines.push(`${prefix}${k}: ${String(v)}`);
    }
  }
  return lines;
}
