// The package as a user gets it: `npm pack` (which builds dist/ in prepack), the tarball
// installed into an empty folder offline from the npm cache, its `irma-server` run with plain
// node: --version, and a full issuance and disclosure session against the installed server, whose
// crypto workers must load the compiled worker (no tsx, no devDependencies at run time).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { freePort } from '../support/redis.js';
import { REFERENCE_SCHEMES, REPO_ROOT } from '../support/reference.js';

const run = promisify(execFile);
const project = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; version?: string; dependencies?: Record<string, string>; [k: string]: unknown }>;
};

let dir: string;
let tarball: string;
let consumer: string;
let installOutput = '';
let server: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irma-package-'));
  mkdirSync(join(dir, 'pack'));
  await run('npm', ['pack', '--pack-destination', join(dir, 'pack')], { cwd: REPO_ROOT, timeout: 120_000 });
  const packed = readdirSync(join(dir, 'pack')).filter((f) => f.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = join(dir, 'pack', packed[0]);
}, 180_000);

afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the compiled server, the bin, README, LICENSE and the native addon source; no TypeScript, tests or build state', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'bin/irma-server.js', 'dist/cli/main.js', 'dist/server/proof-worker.js', 'binding.gyp', 'native/idemix_native.c', 'native/store_gcm.c', 'native/store_gcm.h', 'native/build.mjs']));
    for (const f of files) expect(f).toMatch(/^(package\.json|README\.md|LICENSE|bin\/irma-server\.js|dist\/.+\.js|binding\.gyp|native\/(idemix_native\.c|store_gcm\.[ch]|build\.mjs))$/);
    const shipped = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout) as { bin: Record<string, string> };
    expect(shipped.bin).toEqual({ 'irma-server': 'bin/irma-server.js' });
  });
});

describe('installed from the tarball', () => {
  beforeAll(async () => {
    consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    // The empty folder gets a lock file pinning the versions this project's lock tested (its
    // runtime entries): `npm install` leaves their tarballs in the npm cache, but not necessarily
    // the registry metadata that resolving version ranges afresh would need offline.
    // Relative, as npm writes it into package.json: the lock must name the same spec to be used.
    const relative = `../pack/${tarball.split('/').pop()}`;
    const spec = `file:${relative}`;
    const packages: Record<string, unknown> = {
      '': { name: 'consumer', dependencies: { [project.name]: spec } },
      [`node_modules/${project.name}`]: { version: project.version, resolved: spec, dependencies: lock.packages[''].dependencies, bin: { 'irma-server': 'bin/irma-server.js' } },
    };
    // Tarball URLs spelled out (this project's lock omits them), so that npm takes each tarball from
    // the cache by its integrity without first asking for the package's metadata.
    const registry = (await run('npm', ['config', 'get', 'registry'])).stdout.trim().replace(/\/?$/, '/');
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || entry.dev) continue;
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const resolved = entry.resolved ?? `${registry}${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
      packages[path] = { ...entry, resolved };
    }
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { [project.name]: spec } }));
    writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }));
    // `npm install <tarball>` would resolve the tarball's dependencies afresh; the package.json
    // above names it, so a plain install installs it, by the lock.
    const { stdout, stderr } = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: consumer, timeout: 120_000 });
    installOutput = stdout + stderr;
  }, 180_000);

  it('needs no devDependency, and every installed package accepts this Node.js', () => {
    expect(installOutput).not.toMatch(/EBADENGINE/);
    const installed = readdirSync(join(consumer, 'node_modules'));
    for (const dev of ['tsx', 'typescript', 'vitest', '@types']) expect(installed).not.toContain(dev);
    const semver = createRequire(join(consumer, 'package.json'))('semver') as { satisfies(v: string, r: string): boolean };
    const bad: string[] = [];
    const visit = (modules: string): void => {
      for (const name of readdirSync(modules)) {
        if (name.startsWith('.')) continue;
        if (name.startsWith('@')) {
          for (const sub of readdirSync(join(modules, name))) check(join(modules, name, sub));
        } else check(join(modules, name));
      }
    };
    const check = (pkgDir: string): void => {
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name: string; version: string; engines?: { node?: string } };
      if (pkg.engines?.node && !semver.satisfies(process.version, pkg.engines.node)) bad.push(`${pkg.name}@${pkg.version} (${pkg.engines.node})`);
      try {
        visit(join(pkgDir, 'node_modules'));
      } catch {
        // no nested node_modules
      }
    };
    visit(join(consumer, 'node_modules'));
    expect(bad).toEqual([]);
  });

  it('irma-server --version prints the package version', async () => {
    const { stdout } = await run(join(consumer, 'node_modules', '.bin', 'irma-server'), ['--version'], { cwd: consumer });
    expect(stdout).toBe(`${project.version}\n`);
  });

  it('runs a full issuance and disclosure session', async () => {
    const port = await freePort();
    const home = join(dir, 'home');
    mkdirSync(home);
    let log = '';
    server = spawn(
      join(consumer, 'node_modules', '.bin', 'irma-server'),
      ['server', '--port', String(port), '--listen-addr', '127.0.0.1', '--url', 'http://127.0.0.1:port', '-s', REFERENCE_SCHEMES, '--crypto-workers', '1'],
      { cwd: consumer, env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const started = server;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        if (log.includes('server listening')) resolve();
      };
      started.stdout!.on('data', onData);
      started.stderr!.on('data', onData);
      started.once('exit', (code) => reject(new Error(`installed server exited with ${code}:\n${log}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const post = async (body: unknown) => {
      const res = await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return (await res.json()) as { token: string; sessionPtr: { u: string; irmaqr: string } };
    };
    const result = async (token: string) => (await (await fetch(`${base}/session/${token}/result`)).json()) as Record<string, any>;
    const client = new IrmaClient({ storageDir: join(dir, 'wallet'), schemes: await loadSchemes({ schemesPath: REFERENCE_SCHEMES }) });

    const issued = await post({
      '@context': 'https://irma.app/ld/request/issuance/v2',
      credentials: [{ credential: 'irma-demo.MijnOverheid.fullName', attributes: { firstnames: 'Alice', firstname: 'Alice', familyname: 'Example', prefix: '' } }],
    });
    expect(await client.runSession(issued.sessionPtr)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(await result(issued.token)).toMatchObject({ type: 'issuing', status: 'DONE', proofStatus: 'VALID' });
    const disclosed = await post({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]] });
    await client.runSession(disclosed.sessionPtr);
    const r = await result(disclosed.token);
    expect(r).toMatchObject({ type: 'disclosing', status: 'DONE', proofStatus: 'VALID' });
    expect(r.disclosed[0][0]).toMatchObject({ id: 'irma-demo.MijnOverheid.fullName.firstname', rawvalue: 'Alice' });

    const exited = new Promise<number | null>((resolve) => started.once('exit', resolve));
    started.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).not.toMatch(/tsx|ERR_MODULE_NOT_FOUND|crypto worker (failed|stopped)/);
  });
});
