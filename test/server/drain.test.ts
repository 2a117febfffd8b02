// Stopping a real `irma-server` process with SIGTERM or SIGINT while it holds requests: it stops
// accepting connections, ends status streams and idle keep-alive connections at once, answers every
// request in flight completely, and exits; the grace period bounds how long it waits for them.
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { freePort } from '../support/redis.js';
import { listen, ServerProcess, startSession, stopAllServers, within } from '../support/server-process.js';
import { endpoint } from './live.js';

const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const disclosure = (attrs: string[]) => ({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[attrs]] });

let schemes: SchemeRegistry;
let walletDir: string;
const cleanup: Array<() => Promise<void>> = [];

function args(port: number, grace: number): string[] {
  return [
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', `http://127.0.0.1:${port}`,
    '--sse',
    '--allow-unsigned-callbacks',
    '--crypto-workers', '1',
    '--shutdown-grace-period', String(grace),
  ];
}

async function server(grace: number): Promise<ServerProcess> {
  const port = await freePort();
  const s = new ServerProcess(port, args(port, grace));
  // Generous: the machine running the tests may be busy.
  await s.start(60_000);
  return s;
}

const newClient = () => new IrmaClient({ storageDir: walletDir, schemes, requestTimeoutMs: 60_000 });

/** A next-session endpoint that holds every call until released, then answers 204 (no next session). */
async function heldNextSession() {
  const held: ServerResponse[] = [];
  let released = false;
  const next = await endpoint((_r, res) => (released ? res.writeHead(204).end() : held.push(res)));
  cleanup.push(async () => {
    for (const res of held) res.destroy();
    await next.close();
  });
  return {
    ...next,
    release() {
      released = true;
      for (const res of held.splice(0)) res.writeHead(204).end();
    },
  };
}

/** Resolves once a new connection to `port` is refused: the listener is closed. */
async function refusing(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One GET on a keep-alive agent; resolves with the socket the agent keeps idle afterwards. */
function idleKeepAliveConnection(port: number): Promise<{ closed: Promise<void> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        const socket = req.socket!;
        resolve({ closed: new Promise((r) => socket.once('close', () => r())) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A connection opened now whose request is sent later: resolves with the whole raw answer. */
async function connectedThenAsk(port: number): Promise<{ ask(): Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (answer += c));
  const ended = new Promise<string>((resolve) => socket.once('close', () => resolve(answer)));
  return {
    ask() {
      socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      return ended;
    },
  };
}

function exitOf(s: ServerProcess): Promise<number | null> {
  const child = s.child!;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-drain-wallet-'));
  const s = await server(1);
  const pkg = await startSession(s.base, {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Alice', firstname: 'Alice', familyname: 'Example', prefix: 'van' } }],
  });
  const out = await newClient().runSession(pkg.sessionPtr);
  if (out.status !== 'DONE') throw new Error('could not fill the wallet');
  await s.kill();
}, 120_000);

afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

afterAll(async () => {
  await stopAllServers();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

describe('SIGTERM with requests in flight', () => {
  it('answers all 20 completely, ends streams and idle connections at once, then exits', async () => {
    // A grace period far longer than the test may take: the process must exit because nothing is
    // left, not because the period ran out.
    const s = await server(120);
    const next = await heldNextSession();
    const sessions = await Promise.all(
      Array.from({ length: 20 }, () => startSession(s.base, { nextSession: { url: next.url }, request: disclosure([`${FULLNAME}.firstname`]) })),
    );
    const running = sessions.map((pkg) => newClient().runSession(pkg.sessionPtr));
    running.forEach((p) => p.catch(() => undefined));
    // Every session's POST of proofs is now in flight: verified, waiting for the next-session call.
    await next.waitFor(20, 60_000);

    const watched = await startSession(s.base, disclosure([`${FULLNAME}.familyname`]));
    const stream = listen(`${s.base}/session/${watched.token}/statusevents`);
    await within(stream.opened, 5000, 'status stream');
    const idle = await idleKeepAliveConnection(s.port);
    // A load balancer connected just before the signal; its request follows just after.
    const late = await connectedThenAsk(s.port);

    const exited = exitOf(s);
    s.child!.kill('SIGTERM');
    await within(refusing(s.port), 5000, 'listener closed');
    const lateAnswer = await within(late.ask(), 5000, 'answer on a connection accepted before the signal');
    expect(lateAnswer).toMatch(/^HTTP\/1\.1 200 /);
    expect(lateAnswer.toLowerCase()).toContain('connection: close');
    await within(stream.ended, 5000, 'status stream ended');
    await within(idle.closed, 5000, 'idle keep-alive connection closed');
    // The process still runs: it waits for the requests it holds.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.running).toBe(true);

    const released = Date.now();
    next.release();
    const outcomes = await Promise.all(running);
    expect(outcomes.map((o) => [o.status, o.proofStatus])).toEqual(Array(20).fill(['DONE', 'VALID']));
    expect(await within(exited, 30_000, 'process exit')).toBe(0);
    console.log(`drain: 20 of 20 requests in flight answered; exit ${Date.now() - released} ms after the last was released`);
    expect(s.output).not.toMatch(/cut off/);
  }, 120_000);

  it('cuts what is still running when the grace period ends, and SIGINT works alike', async () => {
    const s = await server(1);
    const next = await heldNextSession();
    const pkg = await startSession(s.base, { nextSession: { url: next.url }, request: disclosure([`${FULLNAME}.firstname`]) });
    const outcome = newClient().runSession(pkg.sessionPtr);
    outcome.catch(() => undefined);
    await next.waitFor(1, 30_000);

    const exited = exitOf(s);
    s.child!.kill('SIGINT');
    expect(await within(exited, 20_000, 'process exit')).toBe(0);
    await expect(outcome).rejects.toThrow();
    expect(s.output).toMatch(/cut off/);
  }, 120_000);

  it('stops gracefully on a signal that comes the moment it says it listens', async () => {
    // What runs after the listener opens (the scheme updater, loaded on demand) must not leave a
    // moment in which a signal finds no handler and kills the process outright.
    const port = await freePort();
    const s = new ServerProcess(port, args(port, 5));
    const started = s.start(60_000);
    started.catch(() => undefined);
    const child = s.child!;
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${code} ${signal}`)));
    let sent = false;
    const onOutput = () => {
      if (sent || !s.output.includes('server listening')) return;
      sent = true;
      child.kill('SIGTERM');
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    expect(await within(exited, 30_000, 'process exit')).toBe('0 null');
    expect(s.output).toMatch(/Exiting/);
  }, 60_000);

  it('stops at once on a second signal', async () => {
    const s = await server(120);
    const next = await heldNextSession();
    const pkg = await startSession(s.base, { nextSession: { url: next.url }, request: disclosure([`${FULLNAME}.firstname`]) });
    const outcome = newClient().runSession(pkg.sessionPtr);
    outcome.catch(() => undefined);
    await next.waitFor(1, 30_000);

    const exited = exitOf(s);
    s.child!.kill('SIGTERM');
    await within(refusing(s.port), 5000, 'listener closed');
    s.child!.kill('SIGTERM');
    expect(await within(exited, 20_000, 'process exit')).toBe(0);
    await expect(outcome).rejects.toThrow();
  }, 120_000);
});
