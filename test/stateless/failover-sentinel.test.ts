// Redis Sentinel failover under running server processes: two `irma-server` processes on a
// master with two replicas and three Sentinels, behind the round-robin proxy. Sessions are
// finished, connected and merely created when the master is killed -9; once a replica is
// promoted, every one of them completes (or still reads as completed) through the proxy, and a
// requestor's event stream opened before the crash hears the end.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startProxy, type RoundRobinProxy } from '../support/proxy.js';
import { replicated, startSentinelSetup, stopAll, waitFor, type RedisProcess, type SentinelSetup } from '../support/redis.js';
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
  type ServerProcess,
  type SessionPackage,
} from '../support/server-process.js';
import { FULLNAME, fullNameDisclosure, stempasIssuance, UNACKNOWLEDGED } from './requests.js';

const PW = 'failover-' + randomBytes(8).toString('hex');
const issuance = stempasIssuance;
const disclosure = fullNameDisclosure;

let setup: SentinelSetup;
let proxy: RoundRobinProxy;
let servers: ServerProcess[];
let schemes: SchemeRegistry;
let walletDir: string;

const newClient = (fetchFn?: typeof fetch) => new IrmaClient({ storageDir: walletDir, schemes, fetch: fetchFn, requestTimeoutMs: 30_000 });
const sessionKey = (pkg: SessionPackage) => `irma:{${clientTokenOf(pkg).slice(0, 4)}}:session:${clientTokenOf(pkg)}`;
/** The status in a stored "<version>:<json>" value (state is not sealed in this setup). */
const storedStatus = (raw: string) => (JSON.parse(raw.slice(raw.indexOf(':') + 1)) as { status: string }).status;

beforeAll(async () => {
  setup = await startSentinelSetup(PW, 2, 3);
  proxy = await startProxy();
  servers = await startServers(2, () => [
    '--store-type', 'redis',
    '--redis-sentinel-addrs', setup.sentinels.map((s) => s.addr).join(','),
    '--redis-sentinel-master-name', setup.masterName,
    '--redis-accept-inconsistency-risk',
    '--redis-pw', PW,
    '--redis-no-tls',
    // A finished session is on a replica before anyone hears it finished.
    '--redis-wait-replicas', '1',
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', proxy.url,
    '--sse',
  ]);
  proxy.setTargets(servers.map((s) => s.port));
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-failover-sentinel-wallet-'));
  const pkg = await startSession(proxy.url, {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Fay Lo', firstname: 'Fay', familyname: 'Over', prefix: 'de' } }],
  });
  if ((await newClient().runSession(pkg.sessionPtr)).status !== 'DONE') throw new Error('could not fill the wallet');
});

afterAll(async () => {
  await proxy?.close();
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

/** The node every live Sentinel names as master, once they agree it is not `old` and it acts as one. */
/**
 * Waits until the promoted master has an online replica. Sentinel reconfigures the remaining
 * replica itself, but on a loaded machine that can take long; after a while the test does what
 * Sentinel would (REPLICAOF the new master), so the wait stays bounded without being flaky.
 */
async function replicaAttached(promoted: RedisProcess): Promise<void> {
  const attached = async () => /^slave\d+:.*state=online/m.test(await promoted.cli(['INFO', 'replication'], { password: PW }));
  try {
    await waitFor(attached, 10_000);
    return;
  } catch {
    // fall through: point the other replica at the new master explicitly
  }
  const other = setup.replicas.find((r) => r !== promoted)!;
  await other.cli(['REPLICAOF', '127.0.0.1', String(promoted.port)], { password: PW });
  await waitFor(attached, 30_000);
}

async function promotedOtherThan(old: RedisProcess): Promise<RedisProcess> {
  let promoted: RedisProcess | undefined;
  await waitFor(async () => {
    const named = new Set<number>();
    for (const s of setup.sentinels) {
      const out = await s.cli(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', setup.masterName]);
      named.add(Number(out.split('\n')[1]));
    }
    if (named.size !== 1 || named.has(old.port)) return false;
    const candidate = setup.replicas.find((r) => named.has(r.port));
    if (candidate === undefined || !(await candidate.cli(['ROLE'], { password: PW })).startsWith('master')) return false;
    promoted = candidate;
    return true;
  }, 20_000);
  return promoted!;
}

describe('Sentinel: the master is killed -9 mid-session', () => {
  it('completes every created and connected session on the promoted replica, and keeps the finished ones', async () => {
    const master = await setup.currentMaster();
    expect(master.port).toBe(setup.master.port);

    // Finished before the crash: the DONE write waited for a replica, so a replica holds it now.
    const finished = [await startSession(proxy.url, disclosure('firstname')), await startSession(proxy.url, issuance('before the crash'))];
    for (const pkg of finished) {
      expect(await newClient().runSession(pkg.sessionPtr)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
      const onMaster = await master.cli(['GET', sessionKey(pkg)], { password: PW });
      const onReplicas = await Promise.all(setup.replicas.map((r) => r.cli(['GET', sessionKey(pkg)], { password: PW })));
      expect(storedStatus(onMaster)).toBe('DONE');
      expect(onReplicas).toContain(onMaster);
    }

    // Connected: the app fetched the request and holds its proofs (or commitments) back.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const connected = [await startSession(proxy.url, disclosure('familyname')), await startSession(proxy.url, issuance('across the crash'))];
    const events = listen(`${proxy.url}/session/${connected[0].token}/statusevents`);
    await events.opened;
    const running = connected.map((pkg) => newClient(holdingProofs(gate)).runSession(pkg.sessionPtr));
    running.forEach((p) => p.catch(() => undefined));
    for (const pkg of connected) await waitForStatus(proxy.url, pkg.token, 'CONNECTED');
    // Created: nobody scanned them yet.
    const created = [await startSession(proxy.url, disclosure('prefix')), await startSession(proxy.url, issuance('after the crash'))];

    // Replication is asynchronous (the risk the operator accepted); only what reached a replica
    // can survive, so let both replicas catch up before the crash.
    await replicated(master, PW, 2);
    await master.stop('SIGKILL');
    const promoted = await promotedOtherThan(master);
    // Each process finds the new master on its own, reading the sessions as they were.
    for (const s of servers) {
      for (const pkg of connected) await waitForStatus(s.base, pkg.token, 'CONNECTED', 20_000);
      for (const pkg of created) await waitForStatus(s.base, pkg.token, 'INITIALIZED', 20_000);
    }
    // The other replica follows the promoted one, so durable writes find their acknowledgement.
    await replicaAttached(promoted);

    release();
    const outcomes = await within(Promise.all(running), 20_000, 'the held apps finishing');
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'DONE', proofStatus: 'VALID' }),
      expect.objectContaining({ status: 'DONE', proofStatus: 'VALID', issued: [expect.any(String)] }),
    ]);
    for (const pkg of created) expect(await newClient().runSession(pkg.sessionPtr)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });

    for (const pkg of [...finished, ...connected, ...created]) {
      const result = await getJson(`${proxy.url}/session/${pkg.token}/result`);
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ token: pkg.token, status: 'DONE', proofStatus: 'VALID' });
      expect(storedStatus(await promoted.cli(['GET', sessionKey(pkg)], { password: PW }))).toBe('DONE');
    }
    // The stream held open through the failover heard the end.
    await within(events.ended, 10_000, 'the event stream ending with DONE');
    expect(events.frames).toEqual(['CONNECTED', 'DONE']);
    expect(servers.every((s) => s.running)).toBe(true);
    for (const s of servers) expect(s.output).not.toContain(UNACKNOWLEDGED);
  }, 60_000);
});
