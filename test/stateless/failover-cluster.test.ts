// Redis Cluster failover under running server processes: two `irma-server` processes on three
// masters with a replica each. Sessions whose keys live on one master are connected or merely
// created when that master is killed -9; once its replica takes over the slots, they complete,
// and a requestor's event stream on one process hears DONE committed by the other.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startProxy, type RoundRobinProxy } from '../support/proxy.js';
import { replicated, startCluster, stopAll, waitFor, type ClusterSetup, type RedisProcess } from '../support/redis.js';
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
import { clusterSlot } from '../store/slot.js';

const PW = 'failover-' + randomBytes(8).toString('hex');
const issuance = stempasIssuance;
const disclosure = fullNameDisclosure;

let cluster: ClusterSetup;
let proxy: RoundRobinProxy;
let servers: ServerProcess[];
let schemes: SchemeRegistry;
let walletDir: string;

const newClient = (fetchFn?: typeof fetch) => new IrmaClient({ storageDir: walletDir, schemes, fetch: fetchFn, requestTimeoutMs: 30_000 });
const slotOf = (pkg: SessionPackage) => clusterSlot(`irma:{${clientTokenOf(pkg).slice(0, 4)}}:session`);
/** The same session pointer, aimed at one process instead of the proxy. */
const pointerAt = (pkg: SessionPackage, s: ServerProcess) => ({ ...pkg.sessionPtr, u: pkg.sessionPtr.u.replace(proxy.url, s.base) });

beforeAll(async () => {
  cluster = await startCluster(PW, 3, 1);
  proxy = await startProxy();
  servers = await startServers(2, () => [
    '--store-type', 'redis',
    '--redis-cluster-addrs', cluster.nodes.slice(0, 2).map((n) => n.addr).join(','),
    '--redis-accept-inconsistency-risk',
    '--redis-pw', PW,
    '--redis-no-tls',
    // The promoted replica has no replica of its own: finishing writes on its slots cannot be
    // acknowledged, and the sessions must finish all the same.
    '--redis-wait-replicas', '1',
    '--redis-wait-timeout', '500',
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', proxy.url,
    '--sse',
  ]);
  proxy.setTargets(servers.map((s) => s.port));
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-failover-cluster-wallet-'));
  const pkg = await startSession(proxy.url, {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Cas Ter', firstname: 'Cas', familyname: 'Slot', prefix: 'van' } }],
  });
  if ((await newClient().runSession(pkg.sessionPtr)).status !== 'DONE') throw new Error('could not fill the wallet');
});

afterAll(async () => {
  await proxy?.close();
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

describe('Cluster: a master is killed -9 mid-session', () => {
  it('completes the sessions on its slots after its replica takes over; SSE on the other process hears DONE', async () => {
    let victim: RedisProcess | undefined;
    /** Starts sessions until one lands on the victim (the master owning the first one); random tokens, so a few tries. */
    const onVictim = async (request: object): Promise<SessionPackage> => {
      for (let i = 0; i < 40; i++) {
        const pkg = await startSession(proxy.url, request);
        const owner = await cluster.masterOf(slotOf(pkg));
        victim ??= owner;
        if (owner === victim) return pkg;
      }
      throw new Error('no session landed on the chosen master');
    };

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Connected: the app holds its proofs (or commitments) back. The disclosure's stream is on
    // process 0 and its app talks to process 1 only; the issuance goes through the proxy.
    const watched = await onVictim(disclosure('familyname'));
    const viaProxy = await onVictim(issuance('across the crash'));
    const events = listen(`${servers[0].base}/session/${watched.token}/statusevents`);
    await events.opened;
    const running = [
      newClient(holdingProofs(gate)).runSession(pointerAt(watched, servers[1])),
      newClient(holdingProofs(gate)).runSession(viaProxy.sessionPtr),
    ];
    running.forEach((p) => p.catch(() => undefined));
    for (const pkg of [watched, viaProxy]) await waitForStatus(proxy.url, pkg.token, 'CONNECTED');
    // Created: nobody scanned them yet.
    const created = [await onVictim(disclosure('prefix')), await onVictim(issuance('after the crash'))];
    const sessions = [watched, viaProxy, ...created];
    const dead = victim!;
    for (const pkg of sessions) {
      const ct = clientTokenOf(pkg);
      const tag = `irma:{${ct.slice(0, 4)}}`;
      expect(await dead.cli(['EXISTS', `${tag}:session:${ct}`, `${tag}:token:${pkg.token}`], { password: PW })).toBe('2');
    }

    // Replication is asynchronous (the risk the operator accepted): let the replica catch up first.
    await replicated(dead, PW, 1);
    await dead.stop('SIGKILL');
    let promoted: RedisProcess | undefined;
    await waitFor(async () => {
      promoted = await cluster.masterOf(slotOf(watched));
      return promoted !== dead;
    }, 20_000);
    expect(promoted).not.toBe(dead);
    // Each process finds the slots' new owner on its own, reading the sessions as they were.
    for (const s of servers) {
      for (const pkg of [watched, viaProxy]) await waitForStatus(s.base, pkg.token, 'CONNECTED', 20_000);
      for (const pkg of created) await waitForStatus(s.base, pkg.token, 'INITIALIZED', 20_000);
    }

    release();
    expect(await within(Promise.all(running), 20_000, 'the held apps finishing')).toEqual([
      expect.objectContaining({ status: 'DONE', proofStatus: 'VALID' }),
      expect.objectContaining({ status: 'DONE', proofStatus: 'VALID', issued: [expect.any(String)] }),
    ]);
    expect(await newClient().runSession(pointerAt(created[0], servers[0]))).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(await newClient().runSession(created[1].sessionPtr)).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });

    for (const pkg of sessions) {
      const result = await getJson(`${proxy.url}/session/${pkg.token}/result`);
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ token: pkg.token, status: 'DONE', proofStatus: 'VALID' });
    }
    // Process 1 committed DONE; process 0's stream, whose shard moved to the promoted replica, heard it.
    await within(events.ended, 10_000, 'the event stream ending with DONE');
    expect(events.frames).toEqual(['CONNECTED', 'DONE']);
    // Finishing on a master without replicas was logged, not refused.
    expect(servers.some((s) => s.output.includes(UNACKNOWLEDGED))).toBe(true);
    expect(servers.every((s) => s.running)).toBe(true);
  }, 60_000);
});
