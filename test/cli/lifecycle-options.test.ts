// The options of stopping, of session rate limits and of trusted proxies: reference-style names from flag,
// environment or config file, and refused when negative.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { parseServerFlags } from '../../src/cli/run.js';
import { OptionsError } from '../../src/server/options.js';
import { sessionRateLimitSettings } from '../../src/server/session-rate-limits.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-lifecycle-options-'));
  mkdirSync(join(dir, 'home'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (argv: string[] = [], env: Record<string, string> = {}) =>
  loadConfig({ flags: parseServerFlags(argv), env: { HOME: join(dir, 'home'), ...env }, cwd: dir }).options;

describe('shutdown_grace_period', () => {
  it('comes from the flag, the environment or the config file, and is absent (15 s) otherwise', () => {
    expect(load(['--shutdown-grace-period', '30']).shutdownGracePeriod).toBe(30);
    expect(load([], { IRMASERVER_SHUTDOWN_GRACE_PERIOD: '5' }).shutdownGracePeriod).toBe(5);
    writeFileSync(join(dir, 'irmaserver.yml'), 'shutdown_grace_period: 0\n');
    expect(load().shutdownGracePeriod).toBe(0);
    rmSync(join(dir, 'irmaserver.yml'));
    expect(load().shutdownGracePeriod).toBeUndefined();
  });

  it('must not be negative', () => {
    expect(() => load(['--shutdown-grace-period', '-1'])).toThrow(OptionsError);
  });
});

describe('session rate limits', () => {
  it('come from flags, the environment or the config file and override the production defaults', () => {
    const o = load(['--production', '--session-rate-limit-address', '0', '--url', 'https://example.com'], {
      IRMASERVER_SESSION_RATE_LIMIT_REQUESTOR: '50',
    });
    expect(sessionRateLimitSettings(o)).toEqual({ address: 0, requestor: 50, windowMs: 60_000 });
    writeFileSync(join(dir, 'irmaserver.yml'), 'session_rate_limit_address: 10\nsession_rate_limit_window: 5\n');
    expect(sessionRateLimitSettings(load())).toEqual({ address: 10, requestor: 0, windowMs: 5000 });
  });

  it('must not be negative', () => {
    for (const flag of ['--session-rate-limit-address', '--session-rate-limit-requestor', '--session-rate-limit-window']) {
      expect(() => load([flag, '-3'])).toThrow(/must not be negative/);
    }
  });
});

describe('trusted_proxies', () => {
  it('comes from the flag, the environment or the config file, and is absent otherwise', () => {
    expect(load(['--trusted-proxies', '10.0.0.0/8,loopback']).trustedProxies).toEqual(['10.0.0.0/8', 'loopback']);
    expect(load([], { IRMASERVER_TRUSTED_PROXIES: '192.0.2.1' }).trustedProxies).toEqual(['192.0.2.1']);
    writeFileSync(join(dir, 'irmaserver.yml'), 'trusted_proxies: ["fd00::/8"]\n');
    expect(load().trustedProxies).toEqual(['fd00::/8']);
    rmSync(join(dir, 'irmaserver.yml'));
    expect(load().trustedProxies).toBeUndefined();
  });

  it('refuses what is not an address, a range or a range name, naming it', () => {
    expect(() => load(['--trusted-proxies', '10.0.0.0/8,proxy.example.com'])).toThrow(/trusted_proxies: "proxy.example.com"/);
  });
});
