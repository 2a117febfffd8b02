// Stateless mode end to end: three real `irma-server` processes on one Redis (TLS with a test CA,
// password, sealed state) behind a round-robin proxy, so every request of a session lands on
// another process. The headless client runs real sessions with the reference schemes' keys.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import type { FetchFn } from '../../src/client/transport.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { endpoint } from '../server/live.js';
import { startProxy, type RoundRobinProxy } from '../support/proxy.js';
import { makeCertificates, startRedis, stopAll, type RedisProcess, type TlsFiles } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import {
  callbackReceiver,
  clientTokenOf,
  getJson,
  listen,
  startServers,
  startSession,
  stopAllServers,
  type CallbackReceiver,
  type ServerProcess,
  type SessionPackage,
} from '../support/server-process.js';

const PW = 'fleet-' + randomBytes(8).toString('hex');
const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const key = () => randomBytes(32).toString('base64');
const K1 = `k1:${key()}`;
const K2 = `k2:${key()}`;

/** A requestor request, with a callback (the extended form) when `callbackUrl` is given. */
const withCallback = (request: object, callbackUrl?: string) => (callbackUrl ? { request, callbackUrl } : request);
const issuance = (credential: string, attributes: Record<string, string>, callbackUrl?: string) =>
  withCallback({ '@context': 'https://irma.app/ld/request/issuance/v2', credentials: [{ credential, attributes }] }, callbackUrl);
const disclosure = (attrs: string[], callbackUrl?: string) =>
  withCallback({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[attrs]] }, callbackUrl);
const signature = (message: string, attrs: string[]) => ({
  '@context': 'https://irma.app/ld/request/signature/v2',
  message,
  disclose: [[attrs]],
});

let redis: RedisProcess;
let tls: TlsFiles;
let proxy: RoundRobinProxy;
let servers: ServerProcess[];
let callbacks: CallbackReceiver;
let schemes: SchemeRegistry;
let walletDir: string;
let raw: ReturnType<typeof createClient>;

function serverArgs(keys: string): string[] {
  return [
    '--store-type', 'redis',
    '--redis-addr', redis.addr,
    '--redis-pw', PW,
    '--redis-tls-cert-file', tls.ca,
    '--store-encryption-keys', keys,
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', proxy.url,
    '--sse',
    '--allow-unsigned-callbacks',
  ];
}

function newClient(fetchFn?: FetchFn): IrmaClient {
  return new IrmaClient({ storageDir: walletDir, schemes, fetch: fetchFn, requestTimeoutMs: 30_000 });
}

/** The stored string of a session, read straight from Redis. */
async function storedValue(ct: string): Promise<string | null> {
  return raw.get(`irma:{${ct.slice(0, 4)}}:session:${ct}`);
}

/** Proxy log entries from `from` on that belong to one session: its start, and either token in the path. */
function requestsOf(pkg: SessionPackage, from: number) {
  const ct = clientTokenOf(pkg);
  return proxy.log.slice(from).filter((r) => (r.method === 'POST' && r.path === '/session') || r.path.includes(ct) || r.path.includes(pkg.token));
}

beforeAll(async () => {
  tls = makeCertificates();
  redis = await startRedis({ password: PW, tls: { files: tls, authClients: 'no' } });
  proxy = await startProxy();
  callbacks = await callbackReceiver();
  servers = await startServers(3, () => serverArgs(K1));
  proxy.setTargets(servers.map((s) => s.port));
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-fleet-wallet-'));
  const { readFileSync } = await import('node:fs');
  raw = createClient({ socket: { host: '127.0.0.1', port: redis.port, tls: true, ca: readFileSync(tls.ca) }, password: PW });
  await raw.connect();
  // The wallet needs a credential to disclose.
  const pkg = await startSession(proxy.url, issuance(FULLNAME, { firstnames: 'Alice Bo', firstname: 'Alice', familyname: 'Example', prefix: 'van' }));
  const out = await newClient().runSession(pkg.sessionPtr);
  if (out.status !== 'DONE') throw new Error('could not fill the wallet');
});

afterAll(async () => {
  await raw?.quit().catch(() => undefined);
  await proxy?.close();
  await callbacks?.close();
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

describe('three processes behind a round-robin proxy', () => {
  const flows: Array<[string, () => unknown]> = [
    ['issuance', () => issuance('irma-demo.MijnOverheid.singleton', { BSN: '123456789' })],
    ['disclosure', () => disclosure([`${FULLNAME}.firstname`, `${FULLNAME}.prefix`])],
    ['attribute-based signature', () => signature('I agree', [`${FULLNAME}.familyname`])],
  ];

  it.each(flows)('%s: every request on another process, SSE listeners see CONNECTED and DONE', async (_name, request) => {
    const from = proxy.log.length;
    const pkg = await startSession(proxy.url, request());
    const ct = clientTokenOf(pkg);
    const requestorEvents = listen(`${proxy.url}/session/${pkg.token}/statusevents`);
    const frontendEvents = listen(`${proxy.url}/irma/session/${ct}/frontend/statusevents`, {
      Authorization: pkg.frontendRequest.authorization,
    });
    await Promise.all([requestorEvents.opened, frontendEvents.opened]);

    const out = await newClient().runSession(pkg.sessionPtr);
    expect(out).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    await Promise.all([requestorEvents.ended, frontendEvents.ended]);
    expect(requestorEvents.frames).toEqual(['CONNECTED', 'DONE']);
    expect(frontendEvents.frames).toEqual([
      expect.objectContaining({ status: 'CONNECTED' }),
      expect.objectContaining({ status: 'DONE' }),
    ]);

    const result = await getJson(`${proxy.url}/session/${pkg.token}/result`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });

    // The session's requests went out one after another, so round-robin put each on the next process.
    const seen = requestsOf(pkg, from);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < seen.length; i++) expect(seen[i].target).not.toBe(seen[i - 1].target);
    expect(new Set(seen.map((r) => r.target)).size).toBe(3);
    const proofs = seen.find((r) => r.method === 'POST' && /\/(proofs|commitments)$/.test(r.path))!;
    const frontendStream = seen.find((r) => r.path.endsWith('/frontend/statusevents'))!;
    const connect = seen.find((r) => r.method === 'GET' && new RegExp(`/irma/session/${ct}/?$`).test(r.path))!;
    const requestorStream = seen.find((r) => r.path.endsWith(`${pkg.token}/statusevents`))!;
    // Each listener heard about commits made by processes other than its own.
    expect(frontendStream.target).not.toBe(proofs.target);
    expect(requestorStream.target).not.toBe(connect.target);
  });

  it('keeps session state sealed in Redis, never readable JSON', async () => {
    const pkg = await startSession(proxy.url, disclosure([`${FULLNAME}.firstname`]));
    await newClient().runSession(pkg.sessionPtr);
    const stored = await storedValue(clientTokenOf(pkg));
    expect(stored).toMatch(/^\d+:enc1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain('Alice');
    expect(stored).not.toContain(pkg.token);
    expect(() => JSON.parse(stored!.slice(stored!.indexOf(':') + 1))).toThrow();
  });
});

/** Waits for `n` published writes, then a little longer for any extra; they must be versions 2..n+1. */
async function expectWrites(events: string[], n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (events.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  expect(events.map((e) => Number(e.slice(0, e.indexOf(':'))))).toEqual(Array.from({ length: n }, (_, i) => i + 2));
}

/** Records the session's published writes (the store's change channel) while `run` goes. */
async function withWrites<T>(ct: string, run: (events: string[]) => Promise<T>): Promise<T> {
  const events: string[] = [];
  const sub = raw.duplicate();
  await sub.connect();
  await sub.subscribe(`irma:{${ct.slice(0, 4)}}:events:${ct}`, (m) => events.push(m));
  try {
    return await run(events);
  } finally {
    await sub.quit();
  }
}

describe('the same proofs at three processes at the same moment', () => {
  /** Sends a POST of proofs/commitments to every process at once; hands the client the first 200. */
  function fanOut(answers: Array<Array<{ status: number; body: string }>>): FetchFn {
    return async (input, init) => {
      const url = String(input);
      if (init?.method !== 'POST' || !/\/(proofs|commitments)$/.test(url)) return fetch(input, init);
      const all = await Promise.all(
        servers.map(async (s) => {
          const res = await fetch(url.replace(proxy.url, s.base), { ...init, signal: AbortSignal.timeout(30_000) });
          return { status: res.status, body: await res.text() };
        }),
      );
      answers.push(all);
      const chosen = all.find((a) => a.status === 200) ?? all[0];
      return new Response(chosen.body, { status: chosen.status, headers: { 'content-type': 'application/json' } });
    };
  }

  it('commits DONE once, posts one callback, and issues one set of signatures over 12 rounds', async () => {
    const rounds = 12;
    const before = callbacks.received.length;
    const tokens: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const issuing = round % 2 === 0;
      const request = issuing
        ? issuance('irma-demo.stemmen.stempas', { election: `round ${round}` }, callbacks.url)
        : disclosure([`${FULLNAME}.firstname`], callbacks.url);
      const pkg = await startSession(proxy.url, request);
      tokens.push(pkg.token);
      const ct = clientTokenOf(pkg);
      await withWrites(ct, async (events) => {
        const answers: Array<Array<{ status: number; body: string }>> = [];
        const out = await newClient(fanOut(answers)).runSession(pkg.sessionPtr);
        expect(out.status).toBe('DONE');
        if (issuing) expect(out.issued).toHaveLength(1);
        // The losers find the winner's answer in the replay cache: the same 200 and the same
        // bytes, so for issuance the very same signatures, not a second set.
        expect(answers).toHaveLength(1);
        expect(answers[0].map((a) => a.status)).toEqual([200, 200, 200]);
        expect(new Set(answers[0].map((a) => a.body)).size).toBe(1);
        if (issuing) expect(JSON.parse(answers[0][0].body).sigs).toHaveLength(1);

        // The CONNECTED write, one claim of the proofs and one DONE write, nothing else: the
        // processes that lost the claim wrote nothing, and exactly one attempt reached DONE.
        await expectWrites(events, 3);
        expect((await storedValue(ct))!.startsWith('4:')).toBe(true);
      });
    }
    await callbacks.waitFor(before + rounds);
    // Give a duplicate callback the time to show up, if any process were to send one.
    await new Promise((r) => setTimeout(r, 500));
    const mine = callbacks.received.slice(before);
    expect(mine).toHaveLength(rounds);
    expect(mine.map((c) => c.token).sort()).toEqual([...tokens].sort());
    expect(mine.every((c) => c.status === 'DONE' && c.proofStatus === 'VALID')).toBe(true);
  }, 120_000);

  it('posts once to the next-session URL per round of a chained session, and starts one next session', async () => {
    const rounds = 4;
    // The requestor's next-session handler: slow enough that every process is mid-request.
    const next = await endpoint((_r, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(disclosure([`${FULLNAME}.familyname`]))), 100);
    });
    try {
      for (let round = 0; round < rounds; round++) {
        const pkg = await startSession(proxy.url, { nextSession: { url: next.url }, request: disclosure([`${FULLNAME}.firstname`]) });
        await withWrites(clientTokenOf(pkg), async (events) => {
          const answers: Array<Array<{ status: number; body: string }>> = [];
          const out = await newClient(fanOut(answers)).runSession(pkg.sessionPtr);
          expect(out).toMatchObject({ status: 'DONE', next: { status: 'DONE', proofStatus: 'VALID' } });
          expect(next.received).toHaveLength(round + 1);
          // The first session and the chained one, each answered alike by all three processes.
          expect(answers).toHaveLength(2);
          for (const a of answers) {
            expect(a.map((x) => x.status)).toEqual([200, 200, 200]);
            expect(new Set(a.map((x) => x.body)).size).toBe(1);
          }
          expect(JSON.parse(answers[0][0].body).nextSession).toEqual(out.nextSession);
          // CONNECTED, the claim, its renewal before the next-session call, DONE.
          await expectWrites(events, 4);
        });
        const result = await getJson(`${proxy.url}/session/${pkg.token}/result`);
        expect(result.body.nextSession).toMatch(/^[a-zA-Z0-9]{20}$/);
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(next.received).toHaveLength(rounds);
    } finally {
      await next.close();
    }
  }, 60_000);
});

/** A fetch that holds the POST of proofs/commitments until `gate` opens: a client mid-session. */
function holdingProofs(gate: Promise<void>): FetchFn {
  return async (input, init) => {
    if (init?.method === 'POST' && /\/(proofs|commitments)$/.test(String(input))) await gate;
    return fetch(input, init);
  };
}

async function statusOf(base: string, token: string): Promise<unknown> {
  return (await getJson(`${base}/session/${token}/status`)).body;
}

async function waitForStatus(token: string, status: string): Promise<void> {
  const end = Date.now() + 15_000;
  while ((await statusOf(proxy.url, token)) !== status) {
    if (Date.now() > end) throw new Error(`session ${token} did not reach ${status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sessions whose app connected and now waits to send its proofs, plus sessions nobody opened yet. */
async function openSessions(base: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const connected = [
    await startSession(base, disclosure([`${FULLNAME}.firstname`])),
    await startSession(base, signature('held across a crash', [`${FULLNAME}.familyname`])),
  ];
  const running = connected.map((pkg) => newClient(holdingProofs(gate)).runSession(pkg.sessionPtr));
  running.forEach((p) => p.catch(() => undefined));
  for (const pkg of connected) await waitForStatus(pkg.token, 'CONNECTED');
  const created = [
    await startSession(base, disclosure([`${FULLNAME}.prefix`])),
    await startSession(base, issuance('irma-demo.stemmen.stempas', { election: 'after the crash' })),
  ];
  return { connected, created, running, release };
}

describe('crash and restart', () => {
  it('completes every open session after a process is killed -9 and restarted', async () => {
    const victim = servers[1];
    const others = servers.filter((s) => s !== victim);
    const open = await openSessions(victim.base);

    await victim.kill('SIGKILL');
    expect(victim.running).toBe(false);
    // Nothing lived only in the dead process: the others know every session.
    for (const pkg of open.connected) expect(await statusOf(others[0].base, pkg.token)).toBe('CONNECTED');
    for (const pkg of open.created) expect(await statusOf(others[1].base, pkg.token)).toBe('INITIALIZED');

    await victim.start();
    open.release();
    const outcomes = await Promise.all(open.running);
    expect(outcomes.map((o) => o.status)).toEqual(['DONE', 'DONE']);
    // One pointer straight at the restarted process, one through the proxy.
    const direct = { ...open.created[0].sessionPtr, u: open.created[0].sessionPtr.u.replace(proxy.url, victim.base) };
    expect((await newClient().runSession(direct)).status).toBe('DONE');
    expect((await newClient().runSession(open.created[1].sessionPtr)).status).toBe('DONE');

    for (const pkg of [...open.connected, ...open.created]) {
      const result = await getJson(`${victim.base}/session/${pkg.token}/result`);
      expect(result.body).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    }
  }, 60_000);
});

describe('key ring rotation', () => {
  it('restarts every process with a new key first and the old one second: live sessions complete', async () => {
    const open = await openSessions(proxy.url);
    const all = [...open.connected, ...open.created];
    for (const pkg of all) expect(await storedValue(clientTokenOf(pkg))).toMatch(/^\d+:enc1\.k1\./);

    for (const s of servers) await s.restart(serverArgs(`${K2},${K1}`));
    // Untouched values are still sealed under the old key, and still readable by every process.
    for (const pkg of open.created) {
      expect(await storedValue(clientTokenOf(pkg))).toMatch(/^1:enc1\.k1\./);
      for (const s of servers) expect(await statusOf(s.base, pkg.token)).toBe('INITIALIZED');
    }

    open.release();
    expect((await Promise.all(open.running)).map((o) => o.status)).toEqual(['DONE', 'DONE']);
    for (const pkg of open.created) expect((await newClient().runSession(pkg.sessionPtr)).status).toBe('DONE');
    for (const pkg of all) {
      // Rewritten on completion, so now sealed under the new key.
      expect(await storedValue(clientTokenOf(pkg))).toMatch(/^\d+:enc1\.k2\./);
      expect((await getJson(`${proxy.url}/session/${pkg.token}/result`)).body).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    }
  }, 90_000);
});
