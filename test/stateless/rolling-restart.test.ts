// A rolling restart under load: three `irma-server` processes on one Redis behind a round-robin
// proxy, each stopped with SIGTERM and started again in turn while sessions run without pause. No
// request may fail, and sessions that were open before the first restart complete after the last.
//
// What is assumed of the load balancer (the proxy plays it): it takes a process out of rotation
// when that process is about to stop (an orchestrator's endpoint removal, or a preStop delay long
// enough for health checks to notice) and sends a request whose connection is refused to another
// process (nginx `proxy_next_upstream error`). It puts the process back before it listens again
// (a health check that is slow to notice), so requests meet a process that is down and are
// re-sent. Without the first, a connection the kernel accepted just as the listener closed is
// reset, which only a balancer retrying requests that got no answer would hide.
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import type { FetchFn } from '../../src/client/transport.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startProxy, type RoundRobinProxy } from '../support/proxy.js';
import { startRedis, stopAll, type RedisProcess } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import {
  getJson,
  holdingProofs,
  listen,
  startServers,
  startSession,
  stopAllServers,
  waitForStatus,
  type ServerProcess,
} from '../support/server-process.js';

const PW = 'rolling-' + randomBytes(8).toString('hex');
const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const issuance = (election: string) => ({
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential: 'irma-demo.stemmen.stempas', attributes: { election } }],
});
const disclosure = (attr: string) => ({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.${attr}`]]] });

/** A process's startup, generous: the machine running the tests may be busy. */
const STARTUP_MS = 60_000;

let redis: RedisProcess;
let proxy: RoundRobinProxy;
let servers: ServerProcess[];
let schemes: SchemeRegistry;
let walletDir: string;

// Long enough for a held session, whose POST waits at the gate through every restart.
const newClient = (fetchFn?: FetchFn) => new IrmaClient({ storageDir: walletDir, schemes, fetch: fetchFn, requestTimeoutMs: 120_000 });

beforeAll(async () => {
  redis = await startRedis({ password: PW });
  proxy = await startProxy([], { retry: true });
  servers = await startServers(3, () => [
    '--store-type', 'redis',
    '--redis-addr', redis.addr,
    '--redis-pw', PW,
    '--redis-no-tls',
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', proxy.url,
    '--crypto-workers', '1',
    '--shutdown-grace-period', '20',
    '--sse',
  ], STARTUP_MS);
  proxy.setTargets(servers.map((s) => s.port));
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-rolling-wallet-'));
  const pkg = await startSession(proxy.url, {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Alice', firstname: 'Alice', familyname: 'Example', prefix: 'van' } }],
  });
  if ((await newClient().runSession(pkg.sessionPtr)).status !== 'DONE') throw new Error('could not fill the wallet');
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

/**
 * A requestor following a session's status events as the frontend does: when a stream ends
 * (its process stops), it reads the status once and opens a new stream, reaching another process.
 */
function followStatus(token: string) {
  const seen: unknown[] = [];
  let reconnects = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const stream = listen(`${proxy.url}/session/${token}/statusevents`);
      await stream.ended;
      seen.push(...stream.frames);
      if (seen.at(-1) === 'DONE' || stopped) return;
      // Read as a polling frontend would; an error here is a failed request (see the proxy log).
      const status = (await getJson(`${proxy.url}/session/${token}/status`)).body;
      if (status === 'DONE') return void seen.push(status);
      reconnects++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  done.catch(() => undefined);
  return { seen, done, reconnects: () => reconnects, stop: () => (stopped = true) };
}

/** One whole session through the proxy, as requestor and app; throws on anything but DONE/VALID. */
async function oneSession(n: number): Promise<void> {
  const pkg = await startSession(proxy.url, n % 2 === 0 ? disclosure('firstname') : issuance(`round ${n}`));
  const out = await newClient().runSession(pkg.sessionPtr);
  if (out.status !== 'DONE' || out.proofStatus !== 'VALID') throw new Error(`session ${n} ended ${out.status}/${out.proofStatus}`);
  const result = await getJson(`${proxy.url}/session/${pkg.token}/result`);
  if (result.status !== 200 || result.body.status !== 'DONE') throw new Error(`result of session ${n}: ${JSON.stringify(result.body)}`);
}

describe('rolling restart of every process under load', () => {
  it('fails no session and loses none', async () => {
    // Sessions whose app connected before the first restart and sends its proofs after the last.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = [await startSession(proxy.url, disclosure('familyname')), await startSession(proxy.url, issuance('held'))];
    const heldRuns = held.map((pkg) => newClient(holdingProofs(gate)).runSession(pkg.sessionPtr));
    heldRuns.forEach((p) => p.catch(() => undefined));
    for (const pkg of held) await waitForStatus(proxy.url, pkg.token, 'CONNECTED');
    const follower = followStatus(held[0].token);

    let stop = false;
    let started = 0;
    const failures: string[] = [];
    let completed = 0;
    const worker = async () => {
      while (!stop) {
        const n = started++;
        try {
          await oneSession(n);
          completed++;
        } catch (err) {
          failures.push(`${n}: ${(err as Error).message}`);
        }
      }
    };
    const load = Array.from({ length: 3 }, () => worker());

    await new Promise((r) => setTimeout(r, 1000));
    const restarted: number[] = [];
    const all = servers.map((s) => s.port);
    for (const s of servers) {
      const before = completed;
      proxy.setTargets(all.filter((p) => p !== s.port));
      // Requests the proxy already sent to it are in flight there; they must all be answered.
      await new Promise((r) => setTimeout(r, 100));
      await s.kill('SIGTERM');
      restarted.push(s.child === undefined ? 1 : 0);
      proxy.setTargets(all);
      await s.start(STARTUP_MS);
      // Let the load run on the new process before stopping the next one.
      while (completed < before + 3) await new Promise((r) => setTimeout(r, 50));
    }
    stop = true;
    await Promise.all(load);

    release();
    const heldOutcomes = await Promise.all(heldRuns);
    await Promise.race([follower.done, new Promise((r) => setTimeout(r, 10_000))]);
    follower.stop();
    const retried = proxy.log.filter((r) => (r.retried ?? 0) > 0).length;
    console.log(
      `rolling restart: ${completed} sessions completed during 3 restarts, ${failures.length} failed; ` +
        `${retried} requests found a process down and went to the next; ` +
        `a status-event listener reconnected ${follower.reconnects()} times`,
    );
    expect(failures).toEqual([]);
    expect(restarted).toEqual([1, 1, 1]);
    expect(completed).toBeGreaterThanOrEqual(9);
    expect(heldOutcomes.map((o) => [o.status, o.proofStatus])).toEqual([['DONE', 'VALID'], ['DONE', 'VALID']]);
    // Its process stopped at least once under it; it reconnected and heard the end.
    expect(follower.reconnects()).toBeGreaterThanOrEqual(1);
    expect(follower.seen.at(-1)).toBe('DONE');
    // No request of any kind failed at the proxy (502: reset or cut by a stopping process).
    expect(proxy.log.filter((r) => r.status === 502 || r.status === undefined).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // Every process exited on its own (SIGTERM), none had to be killed, and none cut a request off.
    for (const s of servers) expect(s.output).not.toMatch(/cut off/);
  }, 300_000);
});
