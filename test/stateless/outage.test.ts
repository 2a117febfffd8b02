// Redis going away under running server processes, as an operator meets it: standalone Redis with
// an append-only file, killed with SIGKILL and started again on the same port. Each of three
// processes sees another traffic pattern during the outage (a few failed requests then quiet,
// quiet throughout, continuous requests); each holds an open session whose app posts its proofs
// after Redis is back, and a requestor's SSE stream for that session open on another process.
// While Redis is down every store request fails at once with 503 and the protocol's error JSON,
// and /health says so; once it is back every process answers within 2 s and every session ends
// VALID, its stream having heard the end.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startRedis, stopAll, type RedisProcess } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import {
  clientTokenOf,
  getJson,
  holdingProofs,
  listen,
  startServers,
  startSession,
  stopAllServers,
  waitForStatus,
  within,
  type EventStream,
  type ServerProcess,
  type SessionPackage,
} from '../support/server-process.js';
import { FULLNAME, fullNameDisclosure } from './requests.js';

const PW = 'outage-' + randomBytes(8).toString('hex');
/** The operation timeout: failing requests must answer well before it, not time out. */
const REDIS_TIMEOUT_MS = 3000;
/** What the issue asks: every process serves again this soon after Redis is back. */
const RECOVERY_MS = 2000;
const UNAVAILABLE_BODY = {
  status: 503,
  error: 'INTERNAL_ERROR',
  description: 'Internal server error',
  message: 'session store unavailable',
};

type Pattern = 'failed requests, then idle' | 'idle throughout' | 'continuous traffic';
const PATTERNS: Pattern[] = ['failed requests, then idle', 'idle throughout', 'continuous traffic'];

let redis: RedisProcess;
let servers: ServerProcess[];
let schemes: SchemeRegistry;
let walletDir: string;

beforeAll(async () => {
  // Every write on disk before it is acknowledged, so a killed Redis comes back with the sessions.
  redis = await startRedis({ password: PW, extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  servers = await startServers(PATTERNS.length, (_i, port) => [
    '--store-type', 'redis',
    '--redis-addr', redis.addr,
    '--redis-pw', PW,
    '--redis-no-tls',
    '--redis-timeout', String(REDIS_TIMEOUT_MS),
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', `http://127.0.0.1:${port}`,
    '--sse',
  ]);
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-outage-wallet-'));
  const pkg = await startSession(servers[0].base, {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Bob', firstname: 'Bob', familyname: 'Down', prefix: '' } }],
  });
  if ((await new IrmaClient({ storageDir: walletDir, schemes }).runSession(pkg.sessionPtr)).status !== 'DONE') {
    throw new Error('could not fill the wallet');
  }
}, 60_000);

afterAll(async () => {
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

interface Held {
  server: ServerProcess;
  pkg: SessionPackage;
  /** The requestor's stream, on another process than the one the app talks to. */
  events: EventStream;
  running: Promise<{ status: string }>;
  release: () => void;
}

/** A disclosure session on `server`, connected, its app holding back the proofs. */
async function holdSession(server: ServerProcess, streamOn: ServerProcess): Promise<Held> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const pkg = await startSession(server.base, fullNameDisclosure('familyname'));
  const events = listen(`${streamOn.base}/session/${pkg.token}/statusevents`);
  await within(events.opened, 10_000, 'statusevents');
  const running = new IrmaClient({ storageDir: walletDir, schemes, fetch: holdingProofs(gate) }).runSession(pkg.sessionPtr);
  running.catch(() => undefined);
  await waitForStatus(server.base, pkg.token, 'CONNECTED');
  return { server, pkg, events, running, release };
}

/** One request a requestor, an app or a balancer might send; answers the status and body. */
async function poke(server: ServerProcess, held: Held, kind: number): Promise<{ status: number; body: unknown; ms: number }> {
  const started = Date.now();
  const [method, path, body] = [
    ['GET', `/session/${held.pkg.token}/status`, undefined],
    ['GET', `/irma/session/${clientTokenOf(held.pkg)}/status`, undefined],
    ['POST', '/session', JSON.stringify(fullNameDisclosure('firstname'))],
  ][kind % 3] as [string, string, string | undefined];
  const res = await fetch(`${server.base}${path}`, { method, body, headers: body ? { 'Content-Type': 'application/json' } : {} });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), ms: Date.now() - started };
}

/** Requests during the outage, by pattern, until `stop` resolves; every answer is checked. */
async function traffic(pattern: Pattern, held: Held, stop: Promise<void>): Promise<number> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const expectUnavailable = async (kind: number) => {
    const r = await poke(held.server, held, kind);
    expect(r.status).toBe(503);
    expect(r.body).toEqual(UNAVAILABLE_BODY);
    // failing fast, not waiting out the operation timeout
    expect(r.ms).toBeLessThan(REDIS_TIMEOUT_MS);
  };
  let sent = 0;
  if (pattern === 'failed requests, then idle') {
    for (let i = 0; i < 6; i++, sent++) await expectUnavailable(i);
    const health = await fetch(`${held.server.base}/health`);
    expect(health.status).toBe(503);
    await health.text();
  }
  if (pattern === 'continuous traffic') {
    while (!stopped) {
      await expectUnavailable(sent++);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return sent;
}

/** Milliseconds until every kind of request succeeds on `server` again. */
async function recovery(server: ServerProcess, held: Held, since: number): Promise<number> {
  const end = since + 15_000;
  for (let kind = 0; kind < 3; ) {
    const r = await poke(server, held, kind).catch(() => ({ status: 0 }));
    if (r.status === 200) kind++;
    else if (Date.now() > end) throw new Error(`process on ${server.port} did not recover (last ${r.status})`);
    else await new Promise((res) => setTimeout(res, 20));
  }
  return Date.now() - since;
}

async function outage(downMs: number): Promise<void> {
  const held = await Promise.all(servers.map((s, i) => holdSession(s, servers[(i + 1) % servers.length])));

  await redis.stop('SIGKILL');
  let back!: () => void;
  const restarted = new Promise<void>((r) => (back = r));
  const patterns = Promise.all(PATTERNS.map((p, i) => traffic(p, held[i], restarted)));
  await new Promise((r) => setTimeout(r, downMs));
  const started = Date.now();
  await redis.start();
  back();
  await patterns;
  const ms = await Promise.all(servers.map((s, i) => recovery(s, held[i], started)));
  console.log(`Redis down ${downMs} ms: serving again after ${PATTERNS.map((p, i) => `${ms[i]} ms (${p})`).join(', ')}`);
  for (const m of ms) expect(m).toBeLessThan(RECOVERY_MS);

  for (const h of held) h.release();
  for (const h of held) {
    expect((await within(h.running, 20_000, 'session')).status).toBe('DONE');
    const result = await getJson(`${h.server.base}/session/${h.pkg.token}/result`);
    expect(result.body).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    // The stream on the other process, open through the outage, heard the end.
    await within(h.events.ended, 10_000, 'statusevents end');
    expect(h.events.frames).toEqual(['CONNECTED', 'DONE']);
  }
  expect(servers.every((s) => s.running)).toBe(true);
}

describe('Redis killed and restarted under three server processes', () => {
  it('down 2 s: 503 while down, every pattern serving within 2 s after, every session VALID', async () => {
    await outage(2000);
  }, 90_000);

  it('down 15 s: the same, on the same processes', async () => {
    await outage(15_000);
  }, 120_000);
});
