// Real redis-server processes for tests: standalone (password, TLS, mutual TLS, ACL users),
// Sentinel (master + replicas + sentinels) and Cluster (masters + replicas), on free ports in a
// temporary directory. Everything started is killed by stopAll(), and on process exit.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REDIS = '/usr/bin/redis-server';
const CLI = '/usr/bin/redis-cli';

const live = new Set<RedisProcess>();
const tempDirs = new Set<string>();

process.on('exit', () => {
  for (const p of live) p.child?.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'irma-redis-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`redis on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class RedisProcess {
  child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly args: string[],
    readonly cwd: string,
  ) {}

  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(REDIS, this.args, { cwd: this.cwd, stdio: 'ignore' });
    this.child = child;
    live.add(this);
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    await listening(this.port);
  }

  /** SIGKILL by default: a crash, not a shutdown. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    live.delete(this);
  }

  /** redis-cli against this process (plain TCP only), as the given user. */
  async cli(args: string[], auth?: { user?: string; password: string }): Promise<string> {
    const authArgs = auth === undefined ? [] : [...(auth.user ? ['--user', auth.user] : []), '--pass', auth.password, '--no-auth-warning'];
    const { stdout } = await run(CLI, ['-p', String(this.port), ...authArgs, ...args]);
    return stdout.trim();
  }

  cliSync(args: string[], password?: string): string {
    const authArgs = password === undefined ? [] : ['--pass', password, '--no-auth-warning'];
    return execFileSync(CLI, ['-p', String(this.port), ...authArgs, ...args], { encoding: 'utf8' }).trim();
  }
}

const BASE = ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--protected-mode', 'no'];

export interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A throwaway CA with a server certificate (127.0.0.1, localhost) and a client certificate. */
export function makeCertificates(dir = tempDir('irma-tls-')): TlsFiles {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=irma test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=irma test ${who}`,
      '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`));
    writeFileSync(f(`${who}.ext`), who === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : 'extendedKeyUsage=clientAuth\n');
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '2', '-extfile', f(`${who}.ext`), '-out', f(`${who}.crt`));
  }
  return {
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
  };
}

export interface StandaloneOptions {
  password?: string;
  tls?: { files: TlsFiles; authClients: 'no' | 'optional' | 'yes' };
  /** ACL lines (users.acl format). */
  acl?: string[];
  extraArgs?: string[];
}

export async function startRedis(options: StandaloneOptions = {}): Promise<RedisProcess> {
  const port = await freePort();
  const dir = tempDir();
  const args = [...BASE, '--dir', dir];
  if (options.tls) {
    const t = options.tls.files;
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', t.serverCert, '--tls-key-file', t.serverKey,
      '--tls-ca-cert-file', t.ca, '--tls-auth-clients', options.tls.authClients);
  } else {
    args.push('--port', String(port));
  }
  if (options.password !== undefined) args.push('--requirepass', options.password);
  if (options.acl) {
    const aclFile = join(dir, 'users.acl');
    writeFileSync(aclFile, options.acl.join('\n') + '\n');
    args.push('--aclfile', aclFile);
  }
  args.push(...(options.extraArgs ?? []));
  const p = new RedisProcess(port, args, dir);
  await p.start();
  return p;
}

export interface SentinelSetup {
  masterName: string;
  password: string;
  master: RedisProcess;
  replicas: RedisProcess[];
  sentinels: RedisProcess[];
  /** The data node the Sentinels currently call master. */
  currentMaster(): Promise<RedisProcess>;
}

export async function startSentinelSetup(password: string, replicaCount = 2, sentinelCount = 3): Promise<SentinelSetup> {
  const masterName = 'irmamaster';
  const auth = ['--requirepass', password, '--masterauth', password];
  const master = await startRedis({ extraArgs: auth });
  const replicas = await Promise.all(
    Array.from({ length: replicaCount }, () => startRedis({ extraArgs: [...auth, '--replicaof', '127.0.0.1', String(master.port)] })),
  );
  const sentinels = await Promise.all(
    Array.from({ length: sentinelCount }, async () => {
      const port = await freePort();
      const dir = tempDir();
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
          `sentinel auth-pass ${masterName} ${password}`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 5000`,
          `sentinel parallel-syncs ${masterName} 2`,
        ].join('\n') + '\n',
      );
      const p = new RedisProcess(port, [conf, '--sentinel'], dir);
      await p.start();
      return p;
    }),
  );
  const all = [master, ...replicas];
  // Wait until the replicas are in sync and every sentinel knows them.
  await waitFor(async () => {
    const info = await master.cli(['INFO', 'replication'], { password });
    return (info.match(/state=online/g) ?? []).length === replicaCount;
  });
  await waitFor(async () => {
    for (const s of sentinels) {
      const out = await s.cli(['SENTINEL', 'REPLICAS', masterName]);
      if ((out.match(/^ip$/gm) ?? []).length < replicaCount) return false;
    }
    return true;
  });
  return {
    masterName,
    password,
    master,
    replicas,
    sentinels,
    async currentMaster() {
      for (const s of sentinels) {
        if (s.child === undefined) continue;
        const out = await s.cli(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]);
        const port = Number(out.split('\n')[1]);
        const found = all.find((p) => p.port === port);
        if (found) return found;
      }
      throw new Error('no sentinel knows the master');
    },
  };
}

export interface ClusterSetup {
  password: string;
  nodes: RedisProcess[];
  masters(): Promise<RedisProcess[]>;
  /** The master serving a slot. */
  masterOf(slot: number): Promise<RedisProcess>;
}

export async function startCluster(password: string, masters = 3, replicasPerMaster = 1): Promise<ClusterSetup> {
  const count = masters * (1 + replicasPerMaster);
  const nodes = await Promise.all(
    Array.from({ length: count }, () =>
      startRedis({
        extraArgs: ['--requirepass', password, '--masterauth', password, '--cluster-enabled', 'yes',
          '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0'],
      }),
    ),
  );
  await run(CLI, ['--pass', password, '--no-auth-warning', '--cluster', 'create', ...nodes.map((n) => n.addr),
    '--cluster-replicas', String(replicasPerMaster), '--cluster-yes']);
  const live = () => nodes.filter((n) => n.child !== undefined);
  const masterList = async () => {
    const out = await live()[0].cli(['CLUSTER', 'NODES'], { password });
    return out
      .split('\n')
      .map((l) => l.split(' '))
      .filter((fields) => fields[2].split(',').includes('master') && !fields[2].includes('fail'));
  };
  await waitFor(async () => {
    for (const n of nodes) {
      const info = await n.cli(['CLUSTER', 'INFO'], { password });
      if (!info.includes('cluster_state:ok')) return false;
      const repl = await n.cli(['INFO', 'replication'], { password });
      if (repl.includes('role:slave') && !repl.includes('master_link_status:up')) return false;
    }
    return (await masterList()).length === masters;
  }, 20_000);
  const byAddr = (addr: string) => nodes.find((n) => addr.startsWith(n.addr + '@') || addr === n.addr)!;
  return {
    password,
    nodes,
    async masters() {
      return (await masterList()).map((fields) => byAddr(fields[1]));
    },
    async masterOf(slot: number) {
      for (const fields of await masterList()) {
        for (const range of fields.slice(8)) {
          const [lo, hi] = range.split('-').map(Number);
          if (slot >= lo && slot <= (hi ?? lo)) return byAddr(fields[1]);
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
  };
}

/**
 * Resolves once at least `count` online replicas of `primary` acknowledged every write it had
 * taken when called: replication is asynchronous, so a test that kills a master first makes
 * sure what it wants to survive is on a replica (replicas acknowledge about once a second).
 */
export async function replicated(primary: RedisProcess, password: string, count: number, timeoutMs = 10_000): Promise<void> {
  const info = () => primary.cli(['INFO', 'replication'], { password });
  const target = Number(/^master_repl_offset:(\d+)/m.exec(await info())?.[1]);
  if (!Number.isSafeInteger(target)) throw new Error(`port ${primary.port} reports no replication offset`);
  await waitFor(async () => {
    const acked = [...(await info()).matchAll(/^slave\d+:.*state=online,offset=(\d+)/gm)].filter((m) => Number(m[1]) >= target);
    return acked.length >= count;
  }, timeoutMs);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > end) throw new Error('redis setup did not settle in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGKILL')));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
