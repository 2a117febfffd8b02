// Finding and parsing the configuration file (JSON or YAML), where the reference looks for it.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { OptionsError } from '../server/options.js';
import { describeParseError } from './parse-error.js';

const EXTENSIONS = ['json', 'yaml', 'yml'];

/** The YAML parser, loaded only for a YAML file: it would otherwise stay in every server's memory (~1 MB). */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}
const BASENAME = 'irmaserver';

/** The directories searched when no --config is given, in order. */
export function configSearchDirs(cwd: string, home: string | undefined): string[] {
  const dirs = [cwd, '/etc/irmaserver/'];
  if (home) dirs.push(join(home, '.irmaserver'));
  return dirs;
}

/** The file to read: the explicit one (which must exist), else the first irmaserver.* found, else none. */
export function findConfigFile(explicit: string | undefined, cwd: string, home: string | undefined): string | undefined {
  if (explicit) {
    const path = resolve(cwd, explicit);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new OptionsError(`specified configuration file does not exist: ${path}`);
      }
      throw new OptionsError(`failed to stat configuration file: ${(e as Error).message}`);
    }
    if (isDir) throw new OptionsError(`specified configuration file is a directory: ${path}`);
    return path;
  }
  for (const dir of configSearchDirs(cwd, home)) {
    for (const ext of EXTENSIONS) {
      const path = resolve(dir, `${BASENAME}.${ext}`);
      try {
        if (statSync(path).isFile()) return path;
      } catch {
        // not there: try the next candidate
      }
    }
  }
  return undefined;
}

/** The file's top-level mapping, keys lower-cased (the reference matches keys case-insensitively). */
export function readConfigFile(path: string): Record<string, unknown> {
  const ext = extname(path).slice(1).toLowerCase();
  if (!EXTENSIONS.includes(ext)) {
    throw new OptionsError(`unsupported configuration file type "${ext}" (use .json, .yaml or .yml): ${path}`);
  }
  let parsed: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    parsed = ext === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new OptionsError(`failed to unmarshal configuration file at ${path}: ${describeParseError(e)}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OptionsError(`failed to unmarshal configuration file at ${path}: expected a mapping of keys to values`);
  }
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) values[k.toLowerCase()] = v;
  return values;
}
