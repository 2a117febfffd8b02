// Real `irma-server server` processes (bin/irma-server.js over the compiled dist/, as deployed) on loopback ports: start,
// wait until they answer HTTP, kill -9, restart on the same port. Everything started is killed by
// stopAllServers(), and on process exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/irma-server.js');
/** Enough log to diagnose a failure, bounded so a chatty process cannot eat the test's memory. */
const OUTPUT_LIMIT = 256 * 1024;

const live = new Set<ServerProcess>();
const homes = new Set<string>();

process.on('exit', () => {
  for (const p of live) p.child?.kill('SIGKILL');
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

/** A GET that resolves with the status code, or undefined when nothing answers. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolveProbe) => {
    const req = request({ host: '127.0.0.1', port, path: '/irma/session/probeprobeprobe/status', timeout: 1000 }, (res) => {
      res.resume();
      resolveProbe(res.statusCode);
    });
    req.on('error', () => resolveProbe(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export class ServerProcess {
  child: ChildProcess | undefined;
  /** stdout and stderr of every run of this process, interleaved. */
  output = '';
  readonly #home: string;

  constructor(
    readonly port: number,
    public args: string[],
  ) {
    // A private HOME and no inherited IRMASERVER_* variables: no configuration from the machine.
    this.#home = mkdtempSync(join(tmpdir(), 'irma-server-home-'));
    homes.add(this.#home);
  }

  /** http://127.0.0.1:<port>, this process directly (not through any proxy). */
  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    if (this.child) throw new Error(`server on port ${this.port} is already running`);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: this.#home };
    const child = spawn(process.execPath, [BIN, 'server', '--port', String(this.port), '--listen-addr', '127.0.0.1', ...this.args], {
      cwd: this.#home,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(this);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (this.child === child) this.child = undefined;
      live.delete(this);
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      if (this.output.length > OUTPUT_LIMIT) this.output = this.output.slice(-OUTPUT_LIMIT / 2);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);

    const end = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`irma-server on port ${this.port} exited during startup:\n${this.output}`);
      if ((await probe(this.port)) !== undefined) return;
      if (Date.now() > end) {
        await this.kill();
        throw new Error(`irma-server on port ${this.port} did not answer within ${timeoutMs} ms:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL by default: a crash, nothing flushed, nothing closed. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Kill (if running) and start again on the same port, optionally with other arguments. */
  async restart(args: string[] = this.args): Promise<void> {
    await this.kill();
    this.args = args;
    await this.start();
  }
}

/** Starts `count` processes on free ports; `args` gets each one's index and port. */
export async function startServers(
  count: number,
  args: (index: number, port: number) => string[],
  timeoutMs?: number,
): Promise<ServerProcess[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const servers = ports.map((port, i) => new ServerProcess(port, args(i, port)));
  await Promise.all(servers.map((s) => s.start(timeoutMs)));
  return servers;
}

export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill('SIGKILL')));
  for (const h of homes) rmSync(h, { recursive: true, force: true });
  homes.clear();
}

// ---- Talking to the processes as a requestor and a frontend would.

export interface SessionPackage {
  token: string;
  sessionPtr: { u: string; irmaqr: string };
  frontendRequest: { authorization: string };
}

/** The client token in a session pointer's URL. */
export function clientTokenOf(pkg: SessionPackage): string {
  return pkg.sessionPtr.u.replace(/\/+$/, '').split('/').pop()!;
}

export async function startSession(base: string, request: unknown): Promise<SessionPackage> {
  const res = await fetch(`${base}/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(request),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /session answered ${res.status}: ${text}`);
  return JSON.parse(text) as SessionPackage;
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text itself
  }
  return { status: res.status, body };
}

/** Polls a session's requestor status at `base` until it is `status` (bounded). */
export async function waitForStatus(base: string, token: string, status: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = (await getJson(`${base}/session/${token}/status`)).body;
      if (last === status) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`session ${token} at ${base} did not reach ${status} (last: ${JSON.stringify(String(last))})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `promise`, or a failure naming `what` once `timeoutMs` passed: a bounded wait on a stream or a client. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fetch that holds every POST of proofs or commitments until `gate` opens: an app mid-session. */
export function holdingProofs(gate: Promise<void>): typeof fetch {
  return async (input, init) => {
    if (init?.method === 'POST' && /\/(proofs|commitments)$/.test(String(input))) await gate;
    return fetch(input, init);
  };
}

export interface EventStream {
  /** Resolves once the server confirmed the subscription (`event: open`). */
  opened: Promise<void>;
  /** The `data:` payloads, parsed as JSON, in arrival order. */
  frames: unknown[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** A server-sent events listener on a GET URL. */
export function listen(url: string, headers: Record<string, string> = {}): EventStream {
  const frames: unknown[] = [];
  let opened!: () => void;
  let ended!: () => void;
  let failed!: (err: Error) => void;
  const openedP = new Promise<void>((res, rej) => {
    opened = res;
    failed = rej;
  });
  const endedP = new Promise<void>((res) => (ended = res));
  const req = request(url, { headers: { ...headers, Accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) {
      failed(new Error(`statusevents answered ${res.statusCode}`));
      res.resume();
      ended();
      return;
    }
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (/^event: open$/m.test(event)) opened();
        const data = /^data: (.*)$/m.exec(event);
        if (data) frames.push(JSON.parse(data[1]));
      }
    });
    res.on('end', () => ended());
    res.on('close', () => ended());
  });
  req.on('error', (err) => {
    failed(err);
    ended();
  });
  req.end();
  openedP.catch(() => undefined);
  return { opened: openedP, frames, ended: endedP, close: () => req.destroy() };
}

export interface CallbackReceiver {
  url: string;
  /** Bodies received, parsed. */
  received: any[];
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A loopback endpoint that takes the requestors' callbacks (session results POSTed by a server). */
export async function callbackReceiver(): Promise<CallbackReceiver> {
  const received: any[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body));
      } catch {
        received.push(body);
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    url,
    received,
    async waitFor(n: number, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > end) throw new Error(`expected ${n} callbacks, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
