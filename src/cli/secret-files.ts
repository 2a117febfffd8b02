// Secrets read from files (`redis_pw_file`, `redis_sentinel_pw_file`, `store_encryption_keys_file`),
// so that they need not appear on a command line, where `ps` shows them and `npm` echoes them.
// The file's content replaces the inline option; giving both is an error, as for the reference's
// key/key_file pairs. One trailing line break is dropped: `echo secret > file` writes one.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { OptionsError } from '../server/options.js';
import { parseKeyRing } from './redis-config.js';
import { spelled, type Source } from './strict-config.js';

const SECRET_FILES: readonly { key: string; keyring?: true }[] = [
  { key: 'redis_pw' },
  { key: 'redis_sentinel_pw' },
  { key: 'store_encryption_keys', keyring: true },
];

/** Replaces each `<key>_file` among `values` by `<key>` holding the file's content. */
export function readSecretFiles(
  values: Map<string, unknown>,
  sources: Map<string, Source>,
  cwd: string,
  configFile?: string,
): void {
  for (const { key, keyring } of SECRET_FILES) {
    const fileKey = `${key}_file`;
    const path = values.get(fileKey);
    if (typeof path !== 'string') continue;
    const fileSource = sources.get(fileKey)!;
    const named = spelled(fileKey, fileSource, configFile);
    if (values.has(key)) {
      throw new OptionsError(
        `both ${spelled(key, sources.get(key)!, configFile)} and ${named} are given: keep only one of them`,
      );
    }
    const text = readSecret(resolve(cwd, path), named).replace(/\r?\n$/, '');
    if (text.trim() === '') throw new OptionsError(`${named}: the file ${path} is empty`);
    values.set(key, keyring ? parseKeyRing(text, `${named} (${path})`) : text);
    sources.set(key, fileSource);
    values.delete(fileKey);
  }
}

function readSecret(path: string, named: string): string {
  try {
    if (!statSync(path).isFile()) throw new OptionsError(`${named}: ${path} is not a regular file`);
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof OptionsError) throw e;
    throw new OptionsError(`${named}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
