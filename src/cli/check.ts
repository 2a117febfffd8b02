// `irma-server check`: everything the server checks at startup, without listening: configuration,
// schemes against the permissions, and (for the Redis store) a real connection to Redis.
import { validateOptionsAgainstSchemes, type SdJwtVcOptions, type ServerOptions } from '../server/options.js';
import { configure } from './configure.js';
import { describeStartupError } from './startup-error.js';
import type { CliIo, Env } from './run.js';

export async function checkCommand(
  flags: Record<string, unknown>,
  strict: boolean,
  env: Env,
  io: CliIo,
): Promise<number> {
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
    const { checkRevocation } = await import('../server/revocation-setup.js');
    out(await checkRevocation(options, schemes));
  } catch (e) {
    out(`schemes: FAILED: ${describeStartupError(e)}`);
    ok = false;
  }

  if (options.sdjwtvc) ok = (await checkSdJwtVc(options.sdjwtvc, out)) && ok;

  if (options.storeType === 'redis') {
    ok = (await checkRedis(options, strict, out)) && ok;
  } else {
    out('store: memory (sessions are lost on restart and not shared between processes)');
  }

  out(ok ? 'OK' : 'FAILED');
  return ok ? 0 : 1;
}

/** The SD-JWT VC issuer directories, read as the server reads them at startup. */
async function checkSdJwtVc(o: SdJwtVcOptions, out: (line: string) => void): Promise<boolean> {
  try {
    const { loadSdJwtIssuers } = await import('../sdjwt/issuer-keys.js');
    const loaded = await loadSdJwtIssuers(o);
    for (const w of loaded.warnings) out(`sdjwtvc: warning: ${w}`);
    out(`sdjwtvc: ${[...loaded.issuers.values()].map((i) => `${i.id} (${i.iss})`).join(', ') || '(no issuers)'}`);
    return true;
  } catch (e) {
    out(`sdjwtvc: FAILED: ${e instanceof Error && e.name === 'SdJwtError' ? e.message : describeStartupError(e)}`);
    return false;
  }
}

/**
 * Unreachable is a failure. What describeRedis finds at risk (no TLS, no encryption, a master
 * without replica, ...) is a warning, or a failure with --strict, since development setups
 * legitimately run that way.
 */
async function checkRedis(options: ServerOptions, strict: boolean, out: (line: string) => void): Promise<boolean> {
  try {
    const { describeRedis } = await import('../store/redis-health.js');
    const d = await describeRedis(options.redis);
    out(`store: redis: mode ${d.mode}, TLS ${d.tls ? 'on' : 'off'}, user ${d.user}, key prefix "${d.keyPrefix}", ` +
      `encryption ${d.encryption ? 'on' : 'off'}`);
    for (const n of d.nodes) {
      out(`store: redis: node ${n.address}: ${n.role}, Redis ${n.serverVersion}, ${n.connectedReplicas} replica(s)`);
    }
    for (const problem of d.problems) out(`store: redis: ${strict ? 'problem' : 'warning'}: ${problem}`);
    if (!d.reachable) {
      out('store: redis: FAILED: not reachable');
      return false;
    }
    out('store: redis: reachable');
    return !strict || d.problems.length === 0;
  } catch (e) {
    out(`store: redis: FAILED: ${describeStartupError(e)}`);
    return false;
  }
}
