// End-to-end sessions per second: a real `irma-server` process (bin/irma-server.js) on the reference
// irma-demo keys, driven over HTTP by headless clients (src/client) in this process. Compares the
// memory store with Redis, proof checking on the server's own thread with the worker pool, and the
// cost of waiting for a Redis replica (WAIT) on the writes that finish a session.
//
// The clients prove in this process, so on a small machine they compete with the server for the
// same cores: read the figures as a comparison between configurations, not as server capacity.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IrmaClient } from '../src/client/client.js';
import { loadSchemes } from '../src/scheme/loader.js';
import type { SchemeRegistry } from '../src/scheme/types.js';
import { defaultCryptoWorkers } from '../src/server/options.js';
import { freePort, startRedis, stopAll, waitFor, type RedisProcess } from '../test/support/redis.js';
import { REFERENCE_SCHEMES } from '../test/support/reference.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'irma-server.js');
const SECONDS_PER_FIGURE = 5;
const CLIENTS = 8;
const PASSWORD = 'bench';
const FULLNAME = 'irma-demo.MijnOverheid.fullName';

const ISSUANCE = {
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Alice', firstname: 'Alice', familyname: 'Example', prefix: 'van' } }],
};
const DISCLOSURE = {
  '@context': 'https://irma.app/ld/request/disclosure/v2',
  disclose: [[[`${FULLNAME}.firstname`, `${FULLNAME}.familyname`]]],
};

interface ServerProcess {
  base: string;
  stop(): Promise<void>;
}

async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'server', '--schemes-path', REFERENCE_SCHEMES, '--port', String(port), '--listen-addr', '127.0.0.1', '--url', base, '--quiet', ...args],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`irma-server exited with code ${child.exitCode}`);
      return (await fetch(`${base}/health`).catch(() => undefined))?.ok === true;
    }, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, stop };
}

async function startSession(base: string, request: unknown): Promise<object> {
  const res = await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  if (!res.ok) throw new Error(`POST /session: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { sessionPtr: object }).sessionPtr;
}

async function runOne(base: string, client: IrmaClient, request: unknown): Promise<void> {
  const out = await client.runSession(await startSession(base, request));
  if (out.status !== 'DONE' || out.proofStatus !== 'VALID') throw new Error(`session ended ${out.status} ${out.proofStatus}`);
}

/** Sessions per second of CLIENTS clients running `request` back to back for SECONDS_PER_FIGURE. */
async function rate(base: string, clients: IrmaClient[], request: unknown): Promise<number> {
  const end = performance.now() + SECONDS_PER_FIGURE * 1000;
  const started = performance.now();
  let done = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < end) {
        await runOne(base, client, request);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function measure(label: string, schemes: SchemeRegistry, serverArgs: string[], kinds = ['disclosures', 'issuances']): Promise<void> {
  const server = await startServerProcess(serverArgs);
  const dirs: string[] = [];
  try {
    const clients = Array.from({ length: CLIENTS }, () => {
      const dir = mkdtempSync(join(tmpdir(), 'irma-bench-wallet-'));
      dirs.push(dir);
      return new IrmaClient({ storageDir: dir, schemes });
    });
    // Every client holds the credential the disclosures ask for; also warms up both sides (not timed).
    await Promise.all(clients.map(async (c) => {
      await runOne(server.base, c, ISSUANCE);
      await runOne(server.base, c, DISCLOSURE);
    }));
    const figures: string[] = [];
    for (const kind of kinds) {
      const r = await rate(server.base, clients, kind === 'issuances' ? ISSUANCE : DISCLOSURE);
      figures.push(`${kind} ${r.toFixed(1).padStart(7)}/s`);
    }
    console.log(`server ${label.padEnd(46)} ${figures.join('  ')}`);
  } finally {
    await server.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function startReplicated(): Promise<{ master: RedisProcess; replica: RedisProcess }> {
  const master = await startRedis({ password: PASSWORD });
  const replica = await startRedis({
    password: PASSWORD,
    extraArgs: ['--replicaof', '127.0.0.1', String(master.port), '--masterauth', PASSWORD],
  });
  await waitFor(async () => (await replica.cli(['info', 'replication'], { password: PASSWORD })).includes('master_link_status:up'));
  return { master, replica };
}

async function waitCalls(redis: RedisProcess): Promise<number> {
  const stats = await redis.cli(['info', 'commandstats'], { password: PASSWORD });
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

export default async function (): Promise<void> {
  const schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  const workers = Math.max(1, defaultCryptoWorkers());
  console.log(`server: ${CLIENTS} concurrent clients in the bench process, ${availableParallelism()} cores, ${SECONDS_PER_FIGURE} s per figure, ${FULLNAME} (1024-bit key)`);
  const crypto: Array<[string, string[]]> = [
    ['crypto on main thread', ['--crypto-workers', '0']],
    [`crypto on ${workers} worker${workers > 1 ? 's' : ''}`, ['--crypto-workers', String(workers)]],
  ];
  for (const [name, args] of crypto) await measure(`memory store, ${name}`, schemes, args);
  try {
    const { master } = await startReplicated();
    const redis = ['--store-type', 'redis', '--redis-addr', master.addr, '--redis-pw', PASSWORD, '--redis-no-tls'];
    for (const [name, args] of crypto) await measure(`redis store, ${name}`, schemes, [...redis, ...args]);
    // The writes that finish a session wait until the replica has them.
    const [, withWorkers] = crypto[1];
    const waitsBefore = await waitCalls(master);
    await measure(`redis + WAIT 1 replica, ${crypto[1][0]}`, schemes, [...redis, ...withWorkers, '--redis-wait-replicas', '1'], ['disclosures']);
    // Zero would mean the server never waited, and the line above measured nothing new.
    console.log(`server redis WAIT commands during that figure: ${(await waitCalls(master)) - waitsBefore}`);
  } finally {
    await stopAll();
  }
}
