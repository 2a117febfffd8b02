// `irma-server server` against a Redis it cannot use: the startup fails within a few seconds with
// a message naming the option to change, instead of retrying a refusal or ending in a bare timeout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import { freePort, makeCertificates, startRedis, stopAll, type RedisProcess, type TlsFiles } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

const PW = 'startup-pw';
let dir: string;
let certs: TlsFiles;
let plain: RedisProcess;
let tls: RedisProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-redis-'));
  certs = makeCertificates();
  [plain, tls] = await Promise.all([startRedis({ password: PW }), startRedis({ password: PW, tls: { files: certs, authClients: 'no' } })]);
}, 30_000);

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the server command; it must end by itself (a failed startup), within the test's timeout. */
async function serve(args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  let output = '';
  const write = (s: string) => void (output += s);
  const port = await freePort();
  // A long operation timeout: a refusal that were retried would only end after it.
  const code = await run(
    ['server', '-s', REFERENCE_SCHEMES, '--port', String(port), '--store-type', 'redis', '--redis-timeout', '60000', ...args],
    { HOME: dir, ...env },
    { cwd: dir, stdout: { write }, stderr: { write } },
  );
  return { code, output };
}

describe('server startup with a Redis it cannot use', () => {
  it('a wrong password fails at once, naming --redis-pw, never showing the password', async () => {
    const r = await serve(['--redis-addr', plain.addr, '--redis-no-tls'], { IRMASERVER_REDIS_PW: 'not-the-password' });
    expect(r.code).toBe(1);
    expect(r.output).toContain('Redis refused the credentials (WRONGPASS): check --redis-pw and --redis-username');
    expect(r.output).not.toContain('not-the-password');
  }, 20_000);

  it('an unknown ACL user fails the same way', async () => {
    const r = await serve(['--redis-addr', plain.addr, '--redis-no-tls', '--redis-username', 'nobody'], { IRMASERVER_REDIS_PW: PW });
    expect(r.code).toBe(1);
    expect(r.output).toContain('Redis refused the credentials (WRONGPASS): check --redis-pw and --redis-username');
  }, 20_000);

  it('TLS (the default) against a plain Redis hints at --redis-no-tls', async () => {
    const r = await serve(['--redis-addr', plain.addr, '--redis-tls-cert-file', certs.ca], { IRMASERVER_REDIS_PW: PW });
    expect(r.code).toBe(1);
    expect(r.output).toContain(`the Redis server at ${plain.addr} does not speak TLS: set --redis-no-tls`);
  }, 20_000);

  it('--redis-no-tls against a TLS Redis says it expects TLS, and where its CA goes', async () => {
    const r = await serve(['--redis-addr', tls.addr, '--redis-no-tls'], { IRMASERVER_REDIS_PW: PW });
    expect(r.code).toBe(1);
    expect(r.output).toContain(`the Redis server at ${tls.addr} expects TLS: remove --redis-no-tls`);
    expect(r.output).toContain('--redis-tls-cert-file');
  }, 20_000);

  it('a TLS Redis whose certificate the system roots do not trust hints at --redis-tls-cert-file', async () => {
    const r = await serve(['--redis-addr', tls.addr], { IRMASERVER_REDIS_PW: PW });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/the Redis server's TLS certificate does not verify \(.+\): give the CA that signed it with --redis-tls-cert-file/);
  }, 20_000);

  it('check reports the same cause', async () => {
    let output = '';
    const write = (s: string) => void (output += s);
    const code = await run(
      ['check', '-s', REFERENCE_SCHEMES, '--store-type', 'redis', '--redis-addr', plain.addr, '--redis-timeout', '60000',
        '--redis-tls-cert-file', certs.ca],
      { HOME: dir, IRMASERVER_REDIS_PW: PW },
      { cwd: dir, stdout: { write }, stderr: { write } },
    );
    expect(code).toBe(1);
    expect(output).toContain(`store: redis: warning: cannot connect: the Redis server at ${plain.addr} does not speak TLS: set --redis-no-tls`);
    expect(output).toContain('store: redis: FAILED: not reachable');
  }, 20_000);
});
