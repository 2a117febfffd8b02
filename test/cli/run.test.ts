// The `irma-server` command run in-process (run(argv, env, io)), and once as a real child process.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '../../src/cli/run.js';
import { checkKeyPair, parsePrivateKeyXml, parsePublicKeyXml } from '../../src/idemix/keys.js';
import { freePort, makeCertificates, startRedis, stopAll } from '../support/redis.js';
import { REFERENCE_JWTKEYS, REFERENCE_SCHEMES, REPO_ROOT } from '../support/reference.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'irma-cli-run-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: Record<string, string> = {}, io: Partial<CliIo> = {}): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { HOME: dir, ...env }, {
    cwd: dir,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => ((stderr += s), process.env.CLI_DEBUG && process.stderr.write(s)) },
    ...io,
  });
  return { code, stdout, stderr };
}

describe('help and usage', () => {
  it('runs as a real process: npx tsx src/cli/main.ts --help', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', '--help'], { cwd: REPO_ROOT });
    expect(stdout).toMatch(/Usage: irma-server/);
    for (const command of ['server', 'check', 'keygen']) expect(stdout).toContain(command);
  });

  it('server --help lists the reference flag names and their environment variables', async () => {
    const { code, stdout } = await cli(['server', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--schemes-path', '--no-auth', '--jwt-privkey-file', '--max-session-lifetime', '--store-type',
      '--redis-addr', '--redis-sentinel-addrs', '--redis-tls-client-cert-file', '--redis-cluster-addrs', '--redis-key-prefix',
      '--redis-wait-replicas', '--store-encryption-keys', '--client-listen-addr', '--static-sessions', '--verbose']) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain('IRMASERVER_SCHEMES_PATH');
    expect(stdout).toContain('~/.irma-server-ts');
    expect(stdout).not.toContain('--no-email'); // deprecated: accepted but not advertised
  });

  it('an unknown flag exits 1 with a message', async () => {
    const { code, stderr } = await cli(['check', '--shemes-path', 'x']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown option '--shemes-path'/);
  });
});

describe('check', () => {
  it('accepts a valid configuration', async () => {
    const r = await cli(['check', '-s', REFERENCE_SCHEMES, '--url', 'http://localhost:port', '--issue-perms', 'irma-demo.MijnOverheid.fullName']);
    expect(r.stdout).toContain('schemes: ' + REFERENCE_SCHEMES + ': ');
    expect(r.stdout).toMatch(/irma-demo/);
    expect(r.stdout).toContain('store: memory');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('OK');
    expect(r.code).toBe(0);
  });

  it('reports startup check failures with the reference message and exits 1', async () => {
    const r = await cli(['check', '-s', REFERENCE_SCHEMES, '--production', '--url', 'https://irma.example.com']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'configuration: FAILED: No requestors configured; either configure one or more requestors or disable requestor authentication',
    );
  });

  it('reports permissions naming unknown identifiers or missing private keys', async () => {
    const r = await cli(['check', '-s', REFERENCE_SCHEMES, '--disclose-perms', 'irma-demo.Nobody.*', '--issue-perms', 'irma-demo.RU.studentCard']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Global disclosing permission 'irma-demo.Nobody.*': unknown issuer");
    expect(r.stdout).toContain("Global issuing permission 'irma-demo.RU.studentCard': private key not installed");
    expect(r.stdout.trim().split('\n').at(-1)).toBe('FAILED');
  });

  it('reads requestors and keys from a config file and environment', async () => {
    const conf = join(dir, 'prod.yaml');
    writeFileSync(conf, [
      'production: true',
      'url: https://irma.example.com',
      `schemes_path: ${REFERENCE_SCHEMES}`,
      'requestors:',
      '  shop:',
      '    auth_method: publickey',
      `    key_file: ${join(REFERENCE_JWTKEYS, 'requestor1.pem')}`,
      '    issue_perms: ["irma-demo.MijnOverheid.fullName"]',
    ].join('\n'));
    const r = await cli(['check', '-c', conf], { IRMASERVER_JWT_PRIVKEY_FILE: join(REFERENCE_JWTKEYS, 'sk.pem') });
    expect(r.stdout).toContain('requestor authentication: 1 requestor(s)');
    expect(r.code).toBe(0);
    // A key pasted where the requestor's public key belongs is refused.
    const bad = await cli(['check', '-c', conf], { IRMASERVER_JWT_PRIVKEY: 'x', IRMASERVER_JWT_PRIVKEY_FILE: join(REFERENCE_JWTKEYS, 'sk.pem') });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/provide either key or path to key/);
  });

  it('refuses a schemes_path or static_path that is not a directory', async () => {
    const r = await cli(['check', '-s', join(dir, 'nothing-here')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`configuration: FAILED: Nonexisting schemes_path provided: ${join(dir, 'nothing-here')} (ENOENT)`);
    const s = await cli(['check', '-s', REFERENCE_SCHEMES, '--static-path', join(REFERENCE_JWTKEYS, 'sk.pem')]);
    expect(s.stdout).toContain('configuration: FAILED: invalid static_path: not a directory');
  });

  it('logs the effective configuration at -v with secrets masked, as JSON lines with --log-json', async () => {
    const requestors = JSON.stringify({ shop: { auth_method: 'token', key: 'TOPSECRET-TOKEN' } });
    const r = await cli(['check', '-v', '--log-json', '-s', REFERENCE_SCHEMES, '--no-auth=false', '--requestors', requestors,
      '--jwt-privkey-file', join(REFERENCE_JWTKEYS, 'sk.pem')]);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; configuration?: unknown });
    const effective = lines.find((l) => l.msg === 'effective configuration');
    expect(effective?.level).toBe(20);
    expect(JSON.stringify(effective?.configuration)).toContain('"shop"');
    expect(r.stderr).not.toContain('TOPSECRET');
    expect(r.stderr).not.toContain('PRIVATE KEY');
    // Without -v nothing of the configuration is logged.
    const quiet = await cli(['check', '--log-json', '-s', REFERENCE_SCHEMES, '--no-auth=false', '--requestors', requestors]);
    expect(quiet.stderr).not.toContain('effective configuration');
    expect((await cli(['check', '-q', '-s', REFERENCE_SCHEMES])).stderr).toBe('');
  });

  it('validates the Redis options before connecting', async () => {
    const r = await cli(['check', '-s', REFERENCE_SCHEMES, '--store-type', 'redis', '--redis-addr', '127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'When Redis is used as session data store, a non-empty Redis password must be specified with the --redis-pw flag.',
    );
  });

  it('with an unreachable Redis, exits 1 and says so', async () => {
    const port = await freePort(); // nothing listens there
    const started = Date.now();
    const r = await cli(['check', '-s', REFERENCE_SCHEMES, '--store-type', 'redis', '--redis-addr', `127.0.0.1:${port}`,
      '--redis-pw', 'secretpw', '--redis-no-tls', '--redis-timeout', '1000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('store: redis: mode standalone, TLS off, user default, key prefix "", encryption off');
    expect(r.stdout).toMatch(/store: redis: warning: cannot connect: .*cannot connect to Redis within 1000 ms/);
    expect(r.stdout).toContain('store: redis: FAILED: not reachable');
    expect(r.stdout + r.stderr).not.toContain('secretpw');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('reaches a real Redis over TLS with the CA from --redis-tls-cert-file; a wrong password fails', async () => {
    const files = makeCertificates();
    const redis = await startRedis({ password: 'right-pw', tls: { files, authClients: 'no' } });
    try {
      const args = ['check', '-s', REFERENCE_SCHEMES, '--store-type', 'redis', '--redis-addr', redis.addr, '--redis-tls-cert-file', files.ca,
        '--redis-timeout', '1500'];
      const ok = await cli(args, { IRMASERVER_REDIS_PW: 'right-pw' });
      expect(ok.stdout).toContain('store: redis: mode standalone, TLS on, user default, key prefix "", encryption off');
      expect(ok.stdout).toMatch(new RegExp(`store: redis: node 127\\.0\\.0\\.1:${redis.port}: master, Redis 7\\.`));
      expect(ok.stdout).toContain('store: redis: warning: no store_encryption_keys: session state is stored unencrypted');
      expect(ok.stdout).toContain('store: redis: reachable');
      expect(ok.code).toBe(0);
      // --strict turns what the setup risks into failures; a key ring removes this one.
      const strict = await cli([...args, '--strict'], { IRMASERVER_REDIS_PW: 'right-pw' });
      expect(strict.stdout).toContain('store: redis: problem: no store_encryption_keys');
      expect(strict.code).toBe(1);
      const keyRing = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
      const sealed = await cli([...args, '--strict'], { IRMASERVER_REDIS_PW: 'right-pw', IRMASERVER_STORE_ENCRYPTION_KEYS: keyRing });
      expect(sealed.stdout).toContain('encryption on');
      expect(sealed.stdout).not.toContain(keyRing);
      expect(sealed.code).toBe(0);
      const wrong = await cli(args, { IRMASERVER_REDIS_PW: 'wrong-pw' });
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain('store: redis: FAILED: not reachable');
      expect(wrong.stdout + wrong.stderr).not.toContain('wrong-pw');
    } finally {
      await stopAll();
    }
  });
});

describe('keygen', () => {
  it('writes a loadable 1024-bit key pair and refuses to overwrite it', async () => {
    const out = join(dir, 'issuer');
    // Relative to today, so the expiry never falls in the past.
    const expiry = `${new Date().getUTCFullYear() + 5}-05-01`;
    const r = await cli(['keygen', '--bits', '1024', '--attributes', '6', '--counter', '3', '--expiry', expiry, '--out', out]);
    expect(r.stderr).toMatch(/generating a 1024-bit key pair/);
    expect(r.code).toBe(0);
    const pk = parsePublicKeyXml(readFileSync(join(out, 'PublicKeys', '3.xml'), 'utf8'));
    const sk = parsePrivateKeyXml(readFileSync(join(out, 'PrivateKeys', '3.xml'), 'utf8'));
    checkKeyPair(pk, sk);
    expect(pk.counter).toBe(3);
    expect(pk.R).toHaveLength(6);
    expect(pk.expiryDate).toBe(Date.parse(expiry) / 1000);
    expect(r.stdout).toContain(join(out, 'PrivateKeys', '3.xml'));

    // Checked before generating anything, so this costs no key generation.
    const again = await cli(['keygen', '--bits', '1024', '--counter', '3', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/3\.xml exists \(use --force-overwrite to replace it\)/);

    // Overwriting a private key file that others could read leaves the new key private.
    const privatePath = join(out, 'PrivateKeys', '3.xml');
    chmodSync(privatePath, 0o644);
    const before = readFileSync(privatePath, 'utf8');
    const forced = await cli(['keygen', '--bits', '1024', '--attributes', '6', '--counter', '3', '--out', out, '-f']);
    expect(forced.code).toBe(0);
    expect(readFileSync(privatePath, 'utf8')).not.toBe(before);
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);
  });

  it('rejects bad arguments without generating', async () => {
    expect((await cli(['keygen', '--bits', '512'])).stderr).toMatch(/Allowed choices are 1024, 2048, 4096/);
    const past = await cli(['keygen', '--bits', '1024', '--expiry', '2001-01-01', '--out', join(dir, 'x')]);
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('expiry date 2001-01-01 is in the past');
    expect((await cli(['keygen', '--expiry', 'tomorrow'])).stderr).toMatch(/invalid expiry date "tomorrow"/);
  });
});

describe('server', () => {
  it('with no options: development mode, generated demo scheme, no auth; prints a working first session', async () => {
    const port = await freePort();
    const stop = new AbortController();
    let url = '';
    const finished = cli(['--port', String(port), '--url', 'http://localhost:port'], {}, {
      signal: stop.signal,
      onListening: (u) => {
        url = u;
      },
    });
    // Wait for the server, then use the curl command it printed.
    const deadline = Date.now() + 60_000;
    while (url === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    try {
      expect(url).toBe(`http://localhost:${port}/irma`);
      const response = await fetch(`http://localhost:${port}/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          '@context': 'https://irma.app/ld/request/disclosure/v2',
          disclose: [[['demo.Example.person.firstname', 'demo.Example.person.over18']]],
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { sessionPtr: { u: string }; token: string };
      expect(body.sessionPtr.u).toMatch(new RegExp(`^http://localhost:${port}/irma/session/`));
    } finally {
      stop.abort();
      await finished;
    }
    const r = await finished;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`--server http://localhost:${port} --issue demo.Example.person=Alice,Example,,yes`);
    expect(r.stdout).toContain('--disclose demo.Example.person.firstname');
    // Both printed sessions are completed by the headless client on the same data folder.
    expect(r.stdout.match(/npx irma-server wallet --data-dir '[^']+' '<the session pointer it printed>'/g)).toHaveLength(2);
    expect(r.stderr).toMatch(/Authentication of incoming session requests disabled/);
    expect(readFileSync(join(dir, '.irma-server-ts', 'demo', 'description.xml'), 'utf8')).toContain('demo');
  });

  it('warms up before listening, unless IRMA_WARMUP=0, and then serves as usual', async () => {
    const serve = async (warm: string) => {
      const saved = process.env.IRMA_WARMUP;
      process.env.IRMA_WARMUP = warm;
      const port = await freePort();
      const stop = new AbortController();
      let url = '';
      const finished = cli(['server', '-v', '-s', REFERENCE_SCHEMES, '--port', String(port), '--url', `http://localhost:${port}`], {}, {
        signal: stop.signal,
        onListening: (u) => {
          url = u;
        },
      });
      try {
        const deadline = Date.now() + 60_000;
        while (url === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const res = await fetch(`http://localhost:${port}/session`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]] }),
        });
        expect(res.status).toBe(200);
      } finally {
        stop.abort();
        if (saved === undefined) delete process.env.IRMA_WARMUP;
        else process.env.IRMA_WARMUP = saved;
      }
      return finished;
    };
    const warm = await serve('1');
    expect(warm.code).toBe(0);
    const sessions = Number(/warmed up.*sessions=(\d+)/.exec(warm.stderr)?.[1]);
    expect(sessions).toBeGreaterThan(0);
    const cold = await serve('0');
    expect(cold.code).toBe(0);
    expect(cold.stderr).not.toMatch(/warmed up/);
  });

  it('says at start when proofs are checked without the native accelerator', async () => {
    const serve = async () => {
      const port = await freePort();
      const stop = new AbortController();
      let up = false;
      const finished = cli(['server', '-s', REFERENCE_SCHEMES, '--port', String(port)], {}, { signal: stop.signal, onListening: () => (up = true) });
      const deadline = Date.now() + 60_000;
      while (!up && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // The notice follows the listening line.
      await new Promise((r) => setTimeout(r, 100));
      stop.abort();
      return finished;
    };
    const { nativeAcceleration, setNativeAcceleration } = await import('../../src/idemix/modexp.js');
    const built = nativeAcceleration();
    try {
      if (built) expect((await serve()).stderr).not.toMatch(/native accelerator/);
      setNativeAcceleration(false);
      const without = await serve();
      expect(without.code).toBe(0);
      expect(without.stderr).toMatch(/native accelerator (not built: .*npm rebuild irma-server-ts|disabled by IRMA_NATIVE=0)/);
    } finally {
      setNativeAcceleration(built);
    }
  });

  it('two servers configured for one Redis share their sessions', async () => {
    const redis = await startRedis({ password: 'pw' });
    const env = { IRMASERVER_STORE_TYPE: 'redis', IRMASERVER_REDIS_ADDR: redis.addr, IRMASERVER_REDIS_PW: 'pw', IRMASERVER_REDIS_NO_TLS: 'true' };
    const stop = new AbortController();
    const ports = [await freePort()];
    // A port just released can be handed out again.
    while (ports.length < 2) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const listening: string[] = [];
    const runs = ports.map((port) =>
      cli(['server', '-s', REFERENCE_SCHEMES, '--port', String(port), '--url', 'http://localhost:port', '--sse'], env, {
        signal: stop.signal,
        onListening: (u) => listening.push(u),
      }),
    );
    try {
      const deadline = Date.now() + 30_000;
      while (listening.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(listening).toHaveLength(2);
      const created = await fetch(`http://localhost:${ports[0]}/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          '@context': 'https://irma.app/ld/request/disclosure/v2',
          disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]],
        }),
      });
      expect(created.status).toBe(200);
      const { token } = (await created.json()) as { token: string };
      const status = await fetch(`http://localhost:${ports[1]}/session/${token}/status`);
      expect(await status.json()).toBe('INITIALIZED');
    } finally {
      stop.abort();
      await Promise.all(runs);
      await stopAll();
    }
    for (const r of await Promise.all(runs)) {
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('"pw"');
    }
  });

  it('refuses to start on a bad configuration with exit code 1', async () => {
    const r = await cli(['server', '-s', REFERENCE_SCHEMES, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('failed to read configuration: Port must be between 1 and 65535 (was 0)');
  });
});
