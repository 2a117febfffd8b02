// Stateless mode on a Redis Cluster (3 masters, 1 replica each): two server processes behind the
// round-robin proxy run sessions whose keys land on every master, with a requestor listening to
// server-sent events on one process while the other commits (sharded pub/sub on the session's slot).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import { startProxy, type RoundRobinProxy } from '../support/proxy.js';
import { startCluster, stopAll, type ClusterSetup } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { clientTokenOf, getJson, listen, startServers, startSession, stopAllServers, type SessionPackage } from '../support/server-process.js';
import { clusterSlot } from '../store/slot.js';

const PW = 'cluster-' + randomBytes(8).toString('hex');

let cluster: ClusterSetup;
let proxy: RoundRobinProxy;
let walletDir: string;

beforeAll(async () => {
  cluster = await startCluster(PW, 3, 1);
  proxy = await startProxy();
  const servers = await startServers(2, () => [
    '--store-type', 'redis',
    '--redis-cluster-addrs', cluster.nodes.slice(0, 2).map((n) => n.addr).join(','),
    '--redis-accept-inconsistency-risk',
    '--redis-pw', PW,
    '--redis-no-tls',
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', proxy.url,
    '--sse',
  ]);
  proxy.setTargets(servers.map((s) => s.port));
  walletDir = await mkdtemp(join(tmpdir(), 'irma-cluster-wallet-'));
});

afterAll(async () => {
  await proxy?.close();
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

describe('Redis Cluster', () => {
  it('runs sessions whose keys land on all three masters through two processes', async () => {
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    // Start sessions until every master owns one (random tokens: a few dozen at most).
    const byMaster = new Map<number, SessionPackage>();
    for (let i = 0; i < 60 && byMaster.size < 3; i++) {
      const pkg = await startSession(proxy.url, {
        '@context': 'https://irma.app/ld/request/issuance/v2',
        credentials: [{ credential: 'irma-demo.stemmen.stempas', attributes: { election: `cluster ${i}` } }],
      });
      const owner = await cluster.masterOf(clusterSlot(`irma:{${clientTokenOf(pkg).slice(0, 4)}}:session`));
      if (!byMaster.has(owner.port)) byMaster.set(owner.port, pkg);
    }
    expect([...byMaster.keys()].sort()).toEqual(masters.map((m) => m.port).sort());

    const client = new IrmaClient({ storageDir: walletDir, schemes: await loadSchemes({ schemesPath: REFERENCE_SCHEMES }) });
    for (const [port, pkg] of byMaster) {
      const ct = clientTokenOf(pkg);
      const owner = masters.find((m) => m.port === port)!;
      // Both keys of the session on the master that owns its hash tag's slot.
      const exists = await owner.cli(['EXISTS', `irma:{${ct.slice(0, 4)}}:session:${ct}`, `irma:{${ct.slice(0, 4)}}:token:${pkg.token}`], { password: PW });
      expect(exists).toBe('2');
      const from = proxy.log.length;
      const events = listen(`${proxy.url}/session/${pkg.token}/statusevents`);
      await events.opened;
      // One request in between, so that round-robin puts the commitments on the other process.
      expect((await getJson(`${proxy.url}/session/${pkg.token}/status`)).body).toBe('INITIALIZED');
      expect((await client.runSession(pkg.sessionPtr)).status).toBe('DONE');
      await events.ended;
      expect(events.frames).toEqual(['CONNECTED', 'DONE']);
      const seen = proxy.log.slice(from);
      const stream = seen.find((r) => r.path.endsWith('/statusevents'))!;
      const commitments = seen.find((r) => r.path.endsWith('/commitments'))!;
      expect(commitments.target).not.toBe(stream.target);
      expect((await getJson(`${proxy.url}/session/${pkg.token}/result`)).body).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    }
    expect(new Set(proxy.log.map((r) => r.target)).size).toBe(2);
  }, 90_000);
});
