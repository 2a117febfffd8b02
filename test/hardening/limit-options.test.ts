// Every limit is an option like the reference's: config file key, --flag, IRMASERVER_ env var.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { SPEC_BY_KEY } from '../../src/cli/option-specs.js';
import { parseServerFlags } from '../../src/cli/run.js';
import { DEFAULT_LIMITS, LIMIT_KEYS, limitsOf } from '../../src/server/limits.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-limit-options-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (argv: string[], env: Record<string, string> = {}) =>
  loadConfig({ flags: parseServerFlags(argv), env: { HOME: dir, ...env }, cwd: dir }).options;

describe('limit options', () => {
  it('declares each limit as an integer option', () => {
    for (const key of Object.values(LIMIT_KEYS)) expect(SPEC_BY_KEY.get(key)?.kind, key).toBe('int');
  });

  it('reads flags, env and config file, and leaves the rest at their defaults', () => {
    const file = join(dir, 'limits.json');
    writeFileSync(file, JSON.stringify({ max_sse_listeners: 7 }));
    const options = load(['--max-json-depth', '12', '--config', file], { IRMASERVER_MAX_CONNECTIONS_PER_CLIENT: '0' });
    expect(options.limits).toEqual({ maxJsonDepth: 12, maxConnectionsPerClient: 0, maxSseListeners: 7 });
    expect(limitsOf(options)).toEqual({ ...DEFAULT_LIMITS, maxJsonDepth: 12, maxConnectionsPerClient: 0, maxSseListeners: 7 });
    expect(load([]).limits).toBeUndefined();
  });
});

describe('README', () => {
  it('lists every limit with its default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Running it in production\n'))!;
    const rows = section.split('\n').filter((l) => l.startsWith('|'));
    for (const [field, key] of Object.entries(LIMIT_KEYS) as Array<[keyof typeof DEFAULT_LIMITS, string]>) {
      const row = rows.find((r) => r.includes(`\`${key}\``));
      expect(row, key).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      const keys = cells[2].split('/').map((k) => k.trim().replace(/`/g, ''));
      const defaults = cells[3].split('/').map((d) => Number(d.trim().split(' ')[0]));
      expect(defaults[keys.indexOf(key)], key).toBe(DEFAULT_LIMITS[field]);
    }
  });
});
