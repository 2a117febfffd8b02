// The configuration mistakes that must stop the server instead of passing silently: unknown keys
// (a typo in store_type would silently give the memory store), options of features this server
// lacks, and secrets given as empty strings (an empty store_encryption_keys meant "unencrypted").
import { OptionsError } from '../server/options.js';
import { envName, flagName, OPTION_SPECS, type OptionSpec } from './option-specs.js';

export type Source = 'flag' | 'env' | 'file';

/** How the user wrote `key` where it came from: --flag, IRMASERVER_VAR, or key in <file>. */
export function spelled(key: string, source: Source, configFile?: string): string {
  if (source === 'flag') return `--${flagName(key)}`;
  if (source === 'env') return envName(key);
  return `${key} in ${configFile ?? 'the configuration file'}`;
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps); small strings only. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest of `candidates` to `name`, if it is close enough to be a plausible typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = distance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function hint(name: string, candidates: Iterable<string>): string {
  const match = closest(name, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

const FILE_KEYS = OPTION_SPECS.filter((s) => s.key !== 'config').map((s) => s.key);

/** Unknown keys of the configuration file: all of them in one error, each with its nearest known key. */
export function checkFileKeys(keys: string[], configFile: string): void {
  const unknown = keys.filter((k) => !FILE_KEYS.includes(k));
  if (unknown.length === 0) return;
  const problems = unknown.map((k) => `unknown configuration key "${k}" in ${configFile}${hint(k, FILE_KEYS)}`);
  throw new OptionsError(problems.join('\n'), problems);
}

const ENV_NAMES = new Map(OPTION_SPECS.map((s) => [envName(s.key), s.key]));

/**
 * IRMASERVER_* variables that name no option. Warnings, not errors: the environment is inherited by
 * every process and shared between versions and tools (the reference ignores unknown variables), so
 * one stray variable must not stop a server; the hint still catches a typo.
 */
export function unknownEnvWarnings(env: Record<string, string | undefined>): string[] {
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('IRMASERVER_') || value === undefined || ENV_NAMES.has(name)) continue;
    warnings.push(`unknown environment variable ${name} is ignored${hint(name, ENV_NAMES.keys())}`);
  }
  return warnings;
}

/** An option of a feature this server lacks: an error naming the feature, never a silent no-op. */
export function unsupportedError(spec: OptionSpec, source: Source, configFile?: string): OptionsError {
  return new OptionsError(
    `${spelled(spec.key, source, configFile)} is not supported by this server (${spec.ignored}): remove it from the configuration`,
  );
}

/** Options holding key material or a password, or the path to one: empty is an error, never "none". */
const SECRET_KEYS = new Set(
  ['redis_pw', 'redis_sentinel_pw', 'store_encryption_keys', 'jwt_privkey', 'tls_privkey', 'client_tls_privkey'].flatMap(
    (k) => [k, `${k}_file`],
  ),
);

/** A secret given as an empty string: almost always a variable that expanded to nothing. */
export function checkSecretNotEmpty(spec: OptionSpec, raw: unknown, source: Source, configFile?: string): void {
  if (!SECRET_KEYS.has(spec.key)) return;
  const empty = (typeof raw === 'string' && raw.trim() === '') || (Array.isArray(raw) && raw.every((v) => typeof v === 'string' && v.trim() === ''));
  if (!empty) return;
  throw new OptionsError(
    `${spelled(spec.key, source, configFile)} is empty: give a value (or leave the option out), see --${flagName(spec.key)} in --help`,
  );
}
