// The figures of issue 8, reproducibly: server CPU per session, session starts, memory.
//
// The server under test is a real `irma-server server` child process running the compiled code
// (dist/, built first), so neither tsx nor the load counts against it. Load comes from separate
// processes (bench/sessions/load-client.ts, headless holders from src/client). Server CPU is
// the server process's own accounting (utime + stime of /proc/<pid>/stat, all its threads, crypto
// workers included), read before and after each window; memory is its RSS (/proc/<pid>/status).
//
// Windows: "cold" is sessions 41-340 after the server started, "steady" the STEADY_COUNT sessions
// after STEADY_AFTER. Quick run: BENCH_STEADY_AFTER=600 BENCH_CREATIONS=5000 npm run bench -- sessions
// Each disclosure set-up runs on BENCH_DISCLOSURE_RUNS (3) fresh servers; figures are medians.
// The holders first run BENCH_LOAD_WARMUP (3000) sessions against a server that is not measured.
// BENCH_CURVE=1 prints every 300-session window between the cold and the steady one.
// One part only: BENCH_ONLY=memory,creations,disclosure,issuance,scaling (comma-separated).
// Session starts (creations, POST /session p50) go through a lean HTTP client (sessions/raw-http.ts).
// Each disclosure window also splits the server's CPU by thread: main, crypto workers, V8/libuv helpers.
// Profiling: BENCH_NODE_ARGS (and BENCH_AB_NODE_ARGS for BENCH_AB_ROOT's server) are node flags for
// the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (a profile per thread);
// BENCH_SELF_ARGS are server flags for this checkout's server in the A/B, e.g. "--crypto-workers 0".
// With BENCH_AB_ROOT, BENCH_ONLY=creations compares session creations (turns of CREATIONS / 10).
//
// Prints a markdown table; writes the same figures as JSON to bench/results/ (not committed).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createDiffieHellman, generatePrimeSync, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedis, stopAll, waitFor } from '../test/support/redis.js';
import { REFERENCE_SCHEMES } from '../test/support/reference.js';
import type { LoadCommand, LoadReport } from './sessions/load-client.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
/** The checkout whose server is measured: this one, or another (BENCH_SERVER_ROOT) for a before/after. */
const SERVER_ROOT = resolve(process.env.BENCH_SERVER_ROOT || ROOT);
const MAIN = join(SERVER_ROOT, 'dist', 'cli', 'main.js');
const LOAD_CLIENT = join(HERE, 'sessions', 'load-client.ts');

const num = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
};
const CLIENTS = num('BENCH_CLIENTS', 4);
const WARMUP = 40;
const COLD_COUNT = 300;
const STEADY_AFTER = num('BENCH_STEADY_AFTER', 3000);
const STEADY_COUNT = num('BENCH_STEADY_COUNT', 300);
/** Sessions each load generator runs before any window, against a server that is not measured. */
const LOAD_WARMUP = num('BENCH_LOAD_WARMUP', 3000);
/** Fresh servers per disclosure set-up; each figure is their median. */
const DISCLOSURE_RUNS = Math.max(1, num('BENCH_DISCLOSURE_RUNS', 3));
const ISSUANCES = num('BENCH_ISSUANCES', 200);
const OPEN_SESSIONS = 10_000;
const P50_STARTS = num('BENCH_P50_STARTS', 2000);
const CREATIONS = num('BENCH_CREATIONS', 50_000);
/**
 * Idle time before reading RSS. V8's memory reducer gives back the heap grown while loading (the
 * start-up warm-up's, say) 24-35 s after it; read at 30 s, one server in three still held 5-15 MB
 * more. A forced full collection instead stops the reducer from running at all, so the bench waits.
 */
const IDLE_MS = num('BENCH_IDLE_MS', 40_000);
const SCALING_SESSIONS = num('BENCH_SCALING_SESSIONS', 600);
/** Sockets per load generator for the 50,000 creations (POST /session p50 uses one socket in all). */
const CREATION_CONNECTIONS = num('BENCH_CREATION_CONNECTIONS', 2);
/** Cores each server process may use in the scaling figure (a CPU cgroup quota), so the servers, not the machine, are the limit. */
const SCALING_CPU = num('BENCH_SCALING_CPU', 0.3);
/** Holders per load generator in the scaling figure: enough sessions in flight for two servers. */
const SCALING_HOLDERS = num('BENCH_SCALING_HOLDERS', 10);
/**
 * Another checkout to compare with side by side (BENCH_AB_ROOT): both servers run at once and
 * take turns under the same load generators, so the machine's load hits both alike.
 */
/** Only these parts (comma-separated: memory, creations, disclosure, issuance, scaling); all by default. */
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const want = (part: string): boolean => ONLY.length === 0 || ONLY.includes(part);
/** Only these disclosure set-ups (labels separated by ';', e.g. "memory, public keys"); all by default. */
const DISCLOSURE_ONLY = process.env.BENCH_DISCLOSURE;
const AB_ROOT = process.env.BENCH_AB_ROOT ? resolve(process.env.BENCH_AB_ROOT) : undefined;
const AB_ROUNDS = num('BENCH_AB_ROUNDS', 6);
const AB_ROUND = num('BENCH_AB_ROUND', 150);
/** Sessions each A/B server runs before the turns are measured; past STEADY_AFTER they compare steady states. */
const AB_WARM = num('BENCH_AB_WARM', WARMUP + COLD_COUNT);
/**
 * BENCH_AB_COLD=1: the A/B compares cold windows instead, each round on a fresh pair of servers
 * started one after the other (the order alternates between rounds), each measured alone.
 */
const AB_COLD = process.env.BENCH_AB_COLD === '1';
const PASSWORD = 'bench';
const ENCRYPTION_KEY = `bench:${Buffer.alloc(32, 7).toString('base64')}`;

const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const DISCLOSURE = { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`]]] };
const ISSUANCE = {
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Alice', firstname: 'Alice', familyname: 'Example', prefix: 'van' } }],
};

/** Issue 8's figures: the reference Go server beside this server before the work of that issue. */
const REFERENCE = {
  goCpuMemory: 4.5,
  goCpuRedis: 5.5,
  goIssuance: 39,
  goStartP50: 0.45,
  goCreations: 7.5,
  goBytesPerSession: 4470,
  before: {
    coldKeysMemory: '5.2',
    coldKeysRedis: '6.4',
    steadyKeys: '2.8–3.9',
    coldPublic: '7–9',
    steadyPublic: '5–6',
    startP50: '0.9–1.0',
    creations: '17',
    bytesPerSession: '4,576',
    idleRss: '125–133',
  },
};

// ---- how fast this machine is --------------------------------------------------------------

/** Issue 8's machine, where the Go figures were taken: ~0.25 µs per 1024-bit modular multiplication in OpenSSL. */
const REFERENCE_MUL_MICROS = 0.25;

/**
 * OpenSSL's 1024-bit modular multiplication here (node:crypto's modexp, ~1,230 multiplications per
 * full-length exponent with a 5-bit window), and how much slower than the machine the Go figures
 * come from. Virtual machines of one kind differ by 1.5-2x between days; the Go column is then only
 * comparable after scaling by this factor.
 */
function machineSpeed(): { mulMicros: number; speedFactor: number } {
  const prime = (bits: number) => generatePrimeSync(bits, { bigint: true }) as bigint;
  const n = prime(512) * prime(512);
  const hex = (x: bigint) => x.toString(16).padStart(256, '0');
  const dh = createDiffieHellman(Buffer.from(hex(n), 'hex'), Buffer.from([2]));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    for (let i = 0; i < 200; i++) {
      dh.setPrivateKey(randomBytes(128));
      dh.generateKeys();
    }
    best = Math.min(best, (performance.now() - t) / 200);
  }
  const mulMicros = (best * 1000) / 1230;
  return { mulMicros, speedFactor: mulMicros / REFERENCE_MUL_MICROS };
}

// ---- the server process -------------------------------------------------------------------

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time of a process and all its threads so far, in milliseconds. */
function cpuMs(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state (field 3 of stat(5)); utime and stime are fields 14 and 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** CPU milliseconds of each thread of the process, by thread id. */
function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), cpuMs(pid, Number(tid)));
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out;
}

/**
 * Where a window's server CPU went: the main thread (its id is the process's), the crypto workers
 * (threads that did not exist before the first session, which starts them), and the rest (V8's
 * compiler and GC helper threads, libuv's pool), per session.
 */
function threadShares(pid: number, startup: Set<number>, before: Map<number, number>, after: Map<number, number>, sessions: number): ThreadShares {
  const shares = { main: 0, workers: 0, helpers: 0 };
  for (const [tid, ms] of after) {
    const used = (ms - (before.get(tid) ?? 0)) / Math.max(1, sessions);
    if (tid === pid) shares.main += used;
    else if (startup.has(tid)) shares.helpers += used;
    else shares.workers += used;
  }
  return shares;
}

const threadSplit = (t: ThreadShares) => `main ${fmt(t.main)}, crypto workers ${fmt(t.workers)}, V8/libuv helpers ${fmt(t.helpers)}`;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * Puts a process (all its threads, and those it starts later) in a CPU cgroup of its own limited
 * to `cores` cores; returns the undo, or undefined where cgroups cannot be written (not root, no
 * CPU controller), in which case the figure says so.
 */
function limitCpu(pid: number, cores: number): (() => void) | undefined {
  // A short period: a throttled server stalls for at most the rest of it, not 100 ms.
  const period = 20_000;
  const quota = Math.round(cores * period);
  const v1 = '/sys/fs/cgroup/cpu';
  const v2 = '/sys/fs/cgroup';
  try {
    if (existsSync(join(v1, 'cpu.cfs_quota_us'))) {
      const dir = join(v1, `irma-bench-${pid}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      return () => rmdirSync(dir);
    }
    if (existsSync(join(v2, 'cgroup.controllers'))) {
      const dir = join(v2, `irma-bench-${pid}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      return () => rmdirSync(dir);
    }
  } catch {
    // Not allowed here: the caller reports the figure as unlimited.
  }
  return undefined;
}

interface Server {
  pid: number;
  base: string;
  stop(): Promise<void>;
  /** Threads that ran before any session: V8's and libuv's helpers (crypto workers start with the first session). */
  startupThreads: Set<number>;
}

async function startServer(schemesPath: string, args: string[], main = MAIN): Promise<Server> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [...((main === MAIN ? process.env.BENCH_NODE_ARGS : process.env.BENCH_AB_NODE_ARGS) ?? '').split(' ').filter(Boolean), main, 'server', '--schemes-path', schemesPath, '--port', String(port), '--listen-addr', '127.0.0.1', '--url', base, '--quiet', '--schemes-update', '0', ...args],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT },
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
  return { pid: child.pid!, base, stop, startupThreads: new Set(threadCpuMs(child.pid!).keys()) };
}

// ---- load generators ----------------------------------------------------------------------

class LoadGen {
  private pending: ((m: { ok: boolean; report?: LoadReport; error?: string }) => void) | undefined;
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { ready?: true; ok: boolean; report?: LoadReport; error?: string }) => {
      if (m.ready) return;
      const p = this.pending;
      this.pending = undefined;
      p?.(m);
    });
  }

  static async start(concurrency: number, schemesPath: string): Promise<LoadGen> {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_CLIENT], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: ROOT });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`load generator exited with code ${code}`)));
    });
    const gen = new LoadGen(child);
    await gen.send({ op: 'init', schemesPath, concurrency });
    return gen;
  }

  send(cmd: LoadCommand): Promise<LoadReport> {
    return new Promise((resolve, reject) => {
      this.pending = (m) => (m.ok ? resolve(m.report as LoadReport) : reject(new Error(m.error)));
      this.child.send(cmd);
    });
  }

  stop(): void {
    this.child.send({ op: 'exit' } satisfies LoadCommand);
  }
}

interface Run {
  ok: number;
  failed: number;
  wallMs: number;
  latencies: number[];
  loadCpuMs: number;
}

/** `count` sessions (or starts) split over the generators, all at once. */
async function run(gens: LoadGen[], op: 'sessions' | 'starts', base: string | string[], request: unknown, count: number, connections?: number): Promise<Run> {
  const t = performance.now();
  const reports = await Promise.all(
    gens.map((g, i) => {
      const share = Math.floor(count / gens.length) + (i < count % gens.length ? 1 : 0);
      const b = Array.isArray(base) ? base[i % base.length] : base;
      const cmd: LoadCommand = op === 'starts' ? { op, base: b, request, count: share, connections } : { op, base: b, request, count: share };
      return share > 0 ? g.send(cmd) : Promise.resolve<LoadReport>({ ok: 0, failed: 0, latencies: [], cpuMicros: 0 });
    }),
  );
  const r: Run = { ok: 0, failed: 0, wallMs: performance.now() - t, latencies: [], loadCpuMs: 0 };
  for (const x of reports) {
    r.ok += x.ok;
    r.failed += x.failed;
    r.latencies.push(...x.latencies);
    r.loadCpuMs += x.cpuMicros / 1000;
    if (x.failed > 0) console.error(`  ${x.failed} failed: ${x.firstError}`);
  }
  return r;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((s.length * p) / 100) - 1)];
}

/** Server CPU per session over one window of `count` sessions. */
async function window(server: Server, gens: LoadGen[], request: unknown, count: number): Promise<{ cpuMsPerSession: number; p50Ms: number; perSecond: number; threads: ThreadShares }> {
  const before = cpuMs(server.pid);
  const threadsBefore = threadCpuMs(server.pid);
  const r = await run(gens, 'sessions', server.base, request, count);
  const used = cpuMs(server.pid) - before;
  const threads = threadShares(server.pid, server.startupThreads, threadsBefore, threadCpuMs(server.pid), r.ok);
  return { cpuMsPerSession: used / Math.max(1, r.ok), p50Ms: percentile(r.latencies, 50), perSecond: r.ok / (r.wallMs / 1000), threads };
}

// ---- the figures --------------------------------------------------------------------------

/** Server CPU per session by thread: milliseconds. */
interface ThreadShares {
  main: number;
  workers: number;
  helpers: number;
}

interface Figures {
  machine: { cores: number; cpu: string; node: string; mulMicros: number; speedFactor: number };
  settings: Record<string, number>;
  disclosure: Record<string, { cold: number; steady: number; coldRange: [number, number]; steadyRange: [number, number]; coldP50Ms: number; steadyPerSecond: number; coldThreads: ThreadShares; steadyThreads: ThreadShares }>;
  issuanceCpuMs?: number;
  issuanceThreads?: ThreadShares;
  idleRssMB?: number;
  /** Idle again after a first session. */
  rssAfterSessionMB?: number;
  bytesPerOpenSession?: number;
  startP50Ms?: number;
  creationsSeconds?: number;
  creationCpuMs?: number;
  creationLoadCpuShare?: number;
  /** CPU per request of a bare node:http server under the same load: the floor for any Node server here. */
  bareNodeCpuMs?: number;
  /** Server CPU per disclosure session, this checkout vs BENCH_AB_ROOT, taking turns. */
  ab?: Record<string, { self: number; other: number }>;
  scaling?: { oneProcess: number; twoProcesses: number; ratio: number; loadCpuShare: number; serverCpuShare: number; cpuLimit?: number };
}

/** One fresh server's cold and steady windows. */
async function disclosureRun(schemesPath: string, args: string[], gens: LoadGen[]) {
  const server = await startServer(schemesPath, args);
  try {
    await run(gens, 'sessions', server.base, DISCLOSURE, WARMUP);
    const cold = await window(server, gens, DISCLOSURE, COLD_COUNT);
    const between = STEADY_AFTER - WARMUP - COLD_COUNT;
    if (process.env.BENCH_CURVE) {
      for (let done = WARMUP + COLD_COUNT; done < STEADY_AFTER; done += COLD_COUNT) {
        const w = await window(server, gens, DISCLOSURE, COLD_COUNT);
        console.error(`    sessions ${done + 1}-${done + COLD_COUNT}: ${fmt(w.cpuMsPerSession)} ms (${threadSplit(w.threads)}), ${fmt(w.perSecond, 0)}/s`);
      }
    } else if (between > 0) await run(gens, 'sessions', server.base, DISCLOSURE, between);
    const steady = await window(server, gens, DISCLOSURE, STEADY_COUNT);
    return { cold, steady };
  } finally {
    await server.stop();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const medianShares = (ts: ThreadShares[]): ThreadShares => ({
  main: median(ts.map((t) => t.main)),
  workers: median(ts.map((t) => t.workers)),
  helpers: median(ts.map((t) => t.helpers)),
});

/**
 * A set-up's windows on DISCLOSURE_RUNS fresh servers, one after another: the figure is the
 * median, the spread is printed beside it. A single cold window on a shared 2-core machine moved
 * by up to 50% between runs minutes apart, more than most changes being judged.
 */
async function disclosureFigures(label: string, schemesPath: string, args: string[], gens: LoadGen[], figures: Figures): Promise<void> {
  if (DISCLOSURE_ONLY && !DISCLOSURE_ONLY.split(';').includes(label)) return;
  const runs = [];
  for (let i = 0; i < DISCLOSURE_RUNS; i++) runs.push(await disclosureRun(schemesPath, args, gens));
  const colds = runs.map((r) => r.cold.cpuMsPerSession);
  const steadies = runs.map((r) => r.steady.cpuMsPerSession);
  const x = {
    cold: median(colds),
    steady: median(steadies),
    coldRange: [Math.min(...colds), Math.max(...colds)] as [number, number],
    steadyRange: [Math.min(...steadies), Math.max(...steadies)] as [number, number],
    coldP50Ms: median(runs.map((r) => r.cold.p50Ms)),
    steadyPerSecond: median(runs.map((r) => r.steady.perSecond)),
    coldThreads: medianShares(runs.map((r) => r.cold.threads)),
    steadyThreads: medianShares(runs.map((r) => r.steady.threads)),
  };
  figures.disclosure[label] = x;
  const spread = (r: [number, number]) => (runs.length > 1 ? ` [${fmt(r[0])}–${fmt(r[1])}]` : '');
  console.error(
    `  ${label}: cold ${fmt(x.cold)} ms${spread(x.coldRange)} (${threadSplit(x.coldThreads)}), ` +
      `steady ${fmt(x.steady)} ms${spread(x.steadyRange)} (${threadSplit(x.steadyThreads)}) of server CPU per session` +
      (runs.length > 1 ? `, medians of ${runs.length} servers` : ''),
  );
}

async function abFigures(label: string, schemesPath: string, args: string[], gens: LoadGen[], figures: Figures): Promise<void> {
  if (DISCLOSURE_ONLY && !DISCLOSURE_ONLY.split(';').includes(label)) return;
  const selfArgs = [...args, ...(process.env.BENCH_SELF_ARGS ?? '').split(' ').filter(Boolean)];
  const otherMain = join(AB_ROOT!, 'dist', 'cli', 'main.js');
  if (AB_COLD) return abColdFigures(label, () => startServer(schemesPath, selfArgs), () => startServer(schemesPath, args, otherMain), gens, figures);
  const self = await startServer(schemesPath, selfArgs);
  const other = await startServer(schemesPath, args, otherMain);
  try {
    const used = [0, 0];
    const done = [0, 0];
    const servers = [self, other];
    for (const s of servers) await run(gens, 'sessions', s.base, DISCLOSURE, AB_WARM);
    for (let round = 0; round < AB_ROUNDS; round++) {
      for (const [i, s] of servers.entries()) {
        const before = cpuMs(s.pid);
        done[i] += (await run(gens, 'sessions', s.base, DISCLOSURE, AB_ROUND)).ok;
        used[i] += cpuMs(s.pid) - before;
      }
    }
    (figures.ab ??= {})[label] = { self: used[0] / done[0], other: used[1] / done[1] };
    console.error(`  A/B ${label}: ${fmt(used[0] / done[0])} ms here, ${fmt(used[1] / done[1])} ms in ${AB_ROOT}`);
  } finally {
    await self.stop();
    await other.stop();
  }
}

const CREATIONS_AB = 'session creation';

/**
 * Session creations on a server of each checkout running side by side, taking turns at batches of
 * CREATIONS / 10 after as many unmeasured ones each (the order alternates): medians of AB_ROUNDS turns.
 * A single creations run moved by 20% between runs minutes apart, more than most changes.
 */
async function abCreationFigures(schemesPath: string, gens: LoadGen[], figures: Figures): Promise<void> {
  const selfArgs = (process.env.BENCH_SELF_ARGS ?? '').split(' ').filter(Boolean);
  const servers = [await startServer(schemesPath, selfArgs), await startServer(schemesPath, [], join(AB_ROOT!, 'dist', 'cli', 'main.js'))];
  const batch = Math.max(1000, Math.round(CREATIONS / 10));
  try {
    for (const s of servers) await run(gens, 'starts', s.base, DISCLOSURE, batch, CREATION_CONNECTIONS);
    const used: [number[], number[]] = [[], []];
    for (let round = 0; round < AB_ROUNDS; round++) {
      for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
        const before = cpuMs(servers[i].pid);
        const r = await run(gens, 'starts', servers[i].base, DISCLOSURE, batch, CREATION_CONNECTIONS);
        used[i].push((cpuMs(servers[i].pid) - before) / Math.max(1, r.ok));
      }
    }
    (figures.ab ??= {})[CREATIONS_AB] = { self: median(used[0]), other: median(used[1]) };
    const pairs = used[0].map((x, i) => `${fmt(x, 3)}/${fmt(used[1][i], 3)}`).join(' ');
    console.error(`  A/B creations: ${fmt(median(used[0]), 3)} ms here, ${fmt(median(used[1]), 3)} ms in ${AB_ROOT} per creation (turns here/there: ${pairs})`);
  } finally {
    for (const s of servers) await s.stop();
  }
}

/** Cold windows of fresh servers of both checkouts, AB_ROUNDS pairs; per-round figures and their means. */
async function abColdFigures(label: string, startSelf: () => Promise<Server>, startOther: () => Promise<Server>, gens: LoadGen[], figures: Figures): Promise<void> {
  const cold: [number[], number[]] = [[], []];
  for (let round = 0; round < AB_ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const server = await (i === 0 ? startSelf() : startOther());
      try {
        await run(gens, 'sessions', server.base, DISCLOSURE, WARMUP);
        cold[i].push((await window(server, gens, DISCLOSURE, COLD_COUNT)).cpuMsPerSession);
      } finally {
        await server.stop();
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  (figures.ab ??= {})[`${label}, cold`] = { self: mean(cold[0]), other: mean(cold[1]) };
  const pairs = cold[0].map((x, i) => `${fmt(x)}/${fmt(cold[1][i])}`).join(' ');
  console.error(`  A/B cold ${label}: ${fmt(mean(cold[0]))} ms here, ${fmt(mean(cold[1]))} ms in ${AB_ROOT} (pairs here/there: ${pairs})`);
}

/**
 * The machine's floor for session starts: a node:http server that reads each POST body and answers
 * with a fixed JSON body of a session package's size, under the creations' load. Machines of one
 * kind differ by 2x and more in this from day to day, more than in OpenSSL's speed.
 */
const BARE_SERVER = `
const body = JSON.stringify({ sessionPtr: { u: 'http://127.0.0.1:1/irma/session/' + 'x'.repeat(20), irmaqr: 'disclosing' }, token: 'y'.repeat(20),
  frontendRequest: { authorization: 'z'.repeat(20), pairingHint: false, minProtocolVersion: '1.0', maxProtocolVersion: '1.1' } });
const server = require('node:http').createServer((req, res) => {
  let n = 0;
  req.on('data', (c) => { n += c.length; });
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
});
server.listen(Number(process.argv[1]), '127.0.0.1', () => process.send('ready'));
`;

async function bareNodeCpuMs(gens: LoadGen[]): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', BARE_SERVER, String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`bare server exited with code ${code}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const count = Math.max(1000, Math.round(CREATIONS / 5));
    await run(gens, 'starts', base, DISCLOSURE, Math.round(count / 5), CREATION_CONNECTIONS);
    const before = cpuMs(child.pid!);
    const r = await run(gens, 'starts', base, DISCLOSURE, count, CREATION_CONNECTIONS);
    return (cpuMs(child.pid!) - before) / Math.max(1, r.ok);
  } finally {
    child.kill();
  }
}

function schemesWithoutPrivateKeys(): string {
  const dir = mkdtempSync(join(tmpdir(), 'irma-bench-schemes-'));
  cpSync(REFERENCE_SCHEMES, dir, { recursive: true, filter: (src) => !src.split('/').includes('PrivateKeys') });
  return dir;
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));

function table(f: Figures): string {
  const d = f.disclosure;
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    row(['figure', 'this server', 'before (issue 8)', 'Go reference', 'target']),
    row(['---', '---', '---', '---', '---']),
  ];
  const disc = (key: string, what: string, before: string, go: number, factor: number) => {
    const x = d[key];
    if (!x) return;
    const spread = (r: [number, number] | undefined) => (r && r[0] !== r[1] ? ` (${fmt(r[0])}–${fmt(r[1])})` : '');
    lines.push(row([`disclosure CPU/session, ${what}, cold (ms)`, fmt(x.cold) + spread(x.coldRange), before.split('|')[0], fmt(go, 1), `≤ ${fmt(go * factor)}`]));
    lines.push(row([`disclosure CPU/session, ${what}, steady (ms)`, fmt(x.steady) + spread(x.steadyRange), before.split('|')[1] ?? '', fmt(go, 1), `≤ ${fmt(go * 0.4)}`]));
  };
  const b = REFERENCE.before;
  disc('memory, public keys', 'memory, public keys only', `${b.coldPublic}|${b.steadyPublic}`, REFERENCE.goCpuMemory, 0.5);
  disc('memory, private keys', 'memory, with private keys', `${b.coldKeysMemory}|${b.steadyKeys}`, REFERENCE.goCpuMemory, 0.5);
  disc('redis, public keys', 'Redis, public keys only', `${b.coldPublic}|${b.steadyPublic}`, REFERENCE.goCpuRedis, 0.5);
  disc('redis encrypted, public keys', 'Redis + state encryption, public keys only', '–|–', REFERENCE.goCpuRedis, 0.5);
  disc('redis, private keys', 'Redis, with private keys', `${b.coldKeysRedis}|${b.steadyKeys}`, REFERENCE.goCpuRedis, 0.5);
  lines.push(row(['issuance CPU per one-credential session (ms)', fmt(f.issuanceCpuMs, 1), '–', String(REFERENCE.goIssuance), `≤ ${REFERENCE.goIssuance / 2}`]));
  lines.push(row(['POST /session p50 at one client (ms)', fmt(f.startP50Ms), b.startP50, String(REFERENCE.goStartP50), '≤ 0.30']));
  lines.push(row([`${CREATIONS.toLocaleString('en')} session creations (s)`, fmt(f.creationsSeconds, 1), `${b.creations} (50,000)`, `${REFERENCE.goCreations} (50,000)`, '≤ 4 (50,000)']));
  lines.push(row(['server CPU per session creation (ms)', fmt(f.creationCpuMs, 3), '–', '–', '–']));
  lines.push(row(['CPU per request of a bare node:http server, same load (ms)', fmt(f.bareNodeCpuMs, 3), '–', '–', '–']));
  lines.push(row(['RSS per 10,000 open sessions, memory store (MB)', fmt(f.bytesPerOpenSession === undefined ? undefined : (f.bytesPerOpenSession * 10_000) / 2 ** 20, 1), '43.6', '42.6', '≤ 19.1']));
  lines.push(row(['RSS per open session, memory store (B)', fmt(f.bytesPerOpenSession, 0), b.bytesPerSession, REFERENCE.goBytesPerSession.toLocaleString('en'), '≤ 2,000']));
  lines.push(row(['idle RSS of the server process (MB)', fmt(f.idleRssMB, 1), b.idleRss, '–', '≤ 80']));
  lines.push(row(['idle RSS after a first session (MB)', fmt(f.rssAfterSessionMB, 1), '(workers started with it)', '–', '–']));
  for (const [label, ab] of Object.entries(f.ab ?? {})) {
    const what = label === CREATIONS_AB ? `server CPU per ${label}` : `disclosure CPU/session, ${label}`;
    lines.push(row([`A/B, taking turns: ${what} (ms)`, fmt(ab.self, label === CREATIONS_AB ? 3 : 2), `${fmt(ab.other, label === CREATIONS_AB ? 3 : 2)} (${AB_ROOT})`, '–', '–']));
  }
  if (f.scaling) {
    const s = f.scaling;
    lines.push(row(['two processes on one Redis vs one (sessions/s)', `${fmt(s.twoProcesses, 0)} vs ${fmt(s.oneProcess, 0)} = ${fmt(s.ratio)}x`, '–', '–', '≥ 1.8x']));
  }
  return lines.join('\n');
}

export default async function (): Promise<void> {
  console.error(`sessions: building ${SERVER_ROOT}/dist (the server runs compiled, as installed)`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(SERVER_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (AB_ROOT) {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(AB_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
  const publicOnly = schemesWithoutPrivateKeys();
  const figures: Figures = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? '', node: process.version, ...machineSpeed() },
    settings: { CLIENTS, LOAD_WARMUP, WARMUP, COLD_COUNT, STEADY_AFTER, STEADY_COUNT, DISCLOSURE_RUNS, ISSUANCES, OPEN_SESSIONS, P50_STARTS, CREATIONS, IDLE_MS, SCALING_SESSIONS },
    disclosure: {},
  };
  const gens: LoadGen[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) gens.push(await LoadGen.start(1, REFERENCE_SCHEMES));

    // Every holder gets the credential from a server of its own, so no window counts those
    // sessions, and then runs LOAD_WARMUP sessions there: a fresh holder is JavaScript not yet
    // compiled, at half the pace of a warm one, and a server loaded at half the pace spends up
    // to twice the CPU per session (fewer requests per wake-up). The Go figures come from Go's
    // client, compiled ahead of time, so a server's cold window here must meet warm holders too.
    {
      const setup = await startServer(REFERENCE_SCHEMES, []);
      try {
        const r = await run(gens, 'sessions', setup.base, ISSUANCE, CLIENTS);
        if (r.ok !== CLIENTS) throw new Error('could not issue the credential to every holder');
        if (LOAD_WARMUP > 0) {
          const t = performance.now();
          const w = await run(gens, 'sessions', setup.base, DISCLOSURE, LOAD_WARMUP);
          console.error(`  load generators warmed: ${w.ok} sessions in ${fmt((performance.now() - t) / 1000, 1)} s`);
        }
      } finally {
        await setup.stop();
      }
    }

    if (AB_ROOT) {
      if (want('creations')) await abCreationFigures(publicOnly, gens, figures);
      if (want('disclosure')) await abFigures('memory, public keys', publicOnly, [], gens, figures);
      if (want('disclosure')) await abFigures('memory, private keys', REFERENCE_SCHEMES, [], gens, figures);
      if (want('disclosure') && DISCLOSURE_ONLY?.split(';').some((l) => l.startsWith('redis'))) {
        const redis = await startRedis({ password: PASSWORD });
        const args = ['--store-type', 'redis', '--redis-addr', redis.addr, '--redis-pw', PASSWORD, '--redis-no-tls'];
        await abFigures('redis, public keys', publicOnly, args, gens, figures);
        await abFigures('redis encrypted, public keys', publicOnly, [...args, '--store-encryption-keys', ENCRYPTION_KEY], gens, figures);
      }
      if (process.env.BENCH_AB_ONLY) return report(figures);
    }

    // Idle RSS, then RSS per open session, then POST /session at one client.
    if (want('memory')) {
      const server = await startServer(publicOnly, []);
      try {
        await new Promise((r) => setTimeout(r, IDLE_MS));
        figures.idleRssMB = rssBytes(server.pid) / 2 ** 20;
        // After one session: what a first request loads is not the sessions' memory. (Crypto
        // workers start only for issuance or once the server thread is busy with proofs, so a
        // verifier that only starts sessions runs none.)
        await run(gens.slice(0, 1), 'starts', server.base, DISCLOSURE, 1);
        await new Promise((r) => setTimeout(r, IDLE_MS));
        const idle = rssBytes(server.pid);
        figures.rssAfterSessionMB = idle / 2 ** 20;
        await run(gens, 'starts', server.base, DISCLOSURE, OPEN_SESSIONS);
        // Idle as long again, so V8 has collected the garbage of the requests and only the sessions remain.
        await new Promise((r) => setTimeout(r, IDLE_MS));
        figures.bytesPerOpenSession = (rssBytes(server.pid) - idle) / OPEN_SESSIONS;
        await run(gens.slice(0, 1), 'starts', server.base, DISCLOSURE, 200);
        figures.startP50Ms = percentile((await run(gens.slice(0, 1), 'starts', server.base, DISCLOSURE, P50_STARTS)).latencies, 50);
        console.error(`  idle RSS ${fmt(figures.idleRssMB, 1)} MB (${fmt(figures.rssAfterSessionMB, 1)} MB after a session), ${fmt(figures.bytesPerOpenSession, 0)} B per open session, POST /session p50 ${fmt(figures.startP50Ms)} ms`);
      } finally {
        await server.stop();
      }
    }
    if (want('creations')) {
      const server = await startServer(publicOnly, []);
      try {
        const before = cpuMs(server.pid);
        const r = await run(gens, 'starts', server.base, DISCLOSURE, CREATIONS, CREATION_CONNECTIONS);
        figures.creationsSeconds = r.wallMs / 1000;
        figures.creationCpuMs = (cpuMs(server.pid) - before) / Math.max(1, r.ok);
        // Near 100% of the cores in sum: the machine, not the server, set the pace.
        figures.creationLoadCpuShare = r.loadCpuMs / r.wallMs / availableParallelism();
        console.error(
          `  ${CREATIONS} creations in ${fmt(figures.creationsSeconds, 1)} s, ${fmt(figures.creationCpuMs, 3)} ms of server CPU each; ` +
            `the load generators used ${fmt(figures.creationLoadCpuShare * 100, 0)}% of the cores`,
        );
      } finally {
        await server.stop();
      }
      figures.bareNodeCpuMs = await bareNodeCpuMs(gens);
      console.error(`  a bare node:http server answering the same requests: ${fmt(figures.bareNodeCpuMs, 3)} ms of CPU each`);
    }

    const redis = await startRedis({ password: PASSWORD });
    const redisArgs = ['--store-type', 'redis', '--redis-addr', redis.addr, '--redis-pw', PASSWORD, '--redis-no-tls'];
    if (want('disclosure')) {
      await disclosureFigures('memory, public keys', publicOnly, [], gens, figures);
      await disclosureFigures('memory, private keys', REFERENCE_SCHEMES, [], gens, figures);
      await disclosureFigures('redis, public keys', publicOnly, redisArgs, gens, figures);
      await disclosureFigures('redis encrypted, public keys', publicOnly, [...redisArgs, '--store-encryption-keys', ENCRYPTION_KEY], gens, figures);
      await disclosureFigures('redis, private keys', REFERENCE_SCHEMES, redisArgs, gens, figures);
    }

    if (want('issuance')) {
      const server = await startServer(REFERENCE_SCHEMES, []);
      try {
        await run(gens, 'sessions', server.base, ISSUANCE, WARMUP);
        const w = await window(server, gens, ISSUANCE, ISSUANCES);
        figures.issuanceCpuMs = w.cpuMsPerSession;
        figures.issuanceThreads = w.threads;
        console.error(`  issuance: ${fmt(figures.issuanceCpuMs, 1)} ms of server CPU per session (${threadSplit(w.threads)})`);
      } finally {
        await server.stop();
      }
    }

    if (want('scaling')) await scalingFigures(publicOnly, redisArgs, figures);
  } finally {
    for (const g of gens) g.stop();
    await stopAll();
    rmSync(publicOnly, { recursive: true, force: true });
  }

  report(figures);
}

/**
 * Sessions per second of one process and of two on the same Redis. Each server process gets a
 * CPU cgroup limited to SCALING_CPU cores, so on a small machine the servers are the bottleneck,
 * not the cores the load generators share with them; the load generators' and servers' shares of
 * the machine are reported beside the ratio.
 */
async function scalingFigures(publicOnly: string, redisArgs: string[], figures: Figures): Promise<void> {
  const gens: LoadGen[] = [];
  const servers: Server[] = [];
  const undo: (() => void)[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) gens.push(await LoadGen.start(SCALING_HOLDERS, REFERENCE_SCHEMES));
    const setup = await startServer(REFERENCE_SCHEMES, []);
    try {
      await Promise.all(gens.map((g) => g.send({ op: 'issue', base: setup.base, request: ISSUANCE })));
    } finally {
      await setup.stop();
    }
    servers.push(await startServer(publicOnly, redisArgs), await startServer(publicOnly, redisArgs));
    let limited = true;
    for (const s of servers) {
      const u = limitCpu(s.pid, SCALING_CPU);
      if (u) undo.push(u);
      else limited = false;
    }
    const bases = servers.map((s) => s.base);
    await run(gens, 'sessions', bases, DISCLOSURE, WARMUP * 4);
    const before = cpuMs(servers[0].pid);
    const one = await run(gens, 'sessions', bases[0], DISCLOSURE, SCALING_SESSIONS);
    const oneCpu = (cpuMs(servers[0].pid) - before) / one.ok;
    const cpu0 = servers.map((s) => cpuMs(s.pid));
    const two = await run(gens, 'sessions', bases, DISCLOSURE, SCALING_SESSIONS);
    const serverCpu = servers.reduce((sum, s, i) => sum + cpuMs(s.pid) - cpu0[i], 0);
    const cores = availableParallelism();
    console.error(`  scaling: server CPU per session ${fmt(oneCpu)} ms with one process, ${fmt(serverCpu / two.ok)} ms with two`);
    figures.scaling = {
      oneProcess: one.ok / (one.wallMs / 1000),
      twoProcesses: two.ok / (two.wallMs / 1000),
      ratio: one.wallMs / two.wallMs,
      loadCpuShare: two.loadCpuMs / two.wallMs / cores,
      serverCpuShare: serverCpu / two.wallMs / cores,
      cpuLimit: limited ? SCALING_CPU : undefined,
    };
    console.error(
      `  scaling: ${fmt(figures.scaling.ratio)}x (${limited ? `each server limited to ${SCALING_CPU} cores` : 'servers NOT limited: no writable CPU cgroup'}); ` +
        `during the two-process run the load generators used ${fmt(figures.scaling.loadCpuShare * 100, 0)}% and the servers ${fmt(figures.scaling.serverCpuShare * 100, 0)}% of the ${cores} cores`,
    );
  } finally {
    for (const s of servers) await s.stop();
    for (const u of undo) u();
    for (const g of gens) g.stop();
  }
}

function report(figures: Figures): void {
  const m = figures.machine;
  console.log(`\nServer CPU per session at ${CLIENTS} concurrent clients (separate processes), ${m.cores} cores, Node ${m.node}`);
  console.log(
    `This machine: ${fmt(m.mulMicros, 3)} µs per 1024-bit modular multiplication (OpenSSL), ${fmt(m.speedFactor)}x the time on the machine of the Go figures; ` +
      `the Go reference scaled to this machine would read ${fmt(REFERENCE.goCpuMemory * m.speedFactor, 1)} ms (memory) and ${fmt(REFERENCE.goCpuRedis * m.speedFactor, 1)} ms (Redis) per session.`,
  );
  console.log(table(figures));
  if (figures.scaling) {
    console.log(
      `\nScaling: ${figures.scaling.cpuLimit === undefined ? 'servers unlimited (no writable CPU cgroup)' : `each server process limited to ${figures.scaling.cpuLimit} cores by a CPU cgroup`}; ` +
        `the load generators used ${fmt(figures.scaling.loadCpuShare * 100, 0)}% and the two servers ${fmt(figures.scaling.serverCpuShare * 100, 0)}% of the machine's cores ` +
        '(the ratio shows server scaling only while their sum stays well below 100%).',
    );
  }
  const dir = join(HERE, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `sessions-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ figures, reference: REFERENCE }, null, 2) + '\n');
  console.log(`\nJSON: ${file}`);
}
