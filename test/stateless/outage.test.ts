// Redis going away under running server processes: requests fail with the protocol's
// INTERNAL_ERROR shape, nothing crashes, and once Redis is back on its port (with its data,
// from the append-only file) the open session completes without restarting any server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import type { FetchFn } from '../../src/client/transport.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startProxy, type RoundRobinProxy } from '../support/proxy.js';
import { startRedis, stopAll, type RedisProcess } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { clientTokenOf, getJson, listen, startServers, startSession, stopAllServers, type ServerProcess } from '../support/server-process.js';

const PW = 'outage-' + randomBytes(8).toString('hex');
const FULLNAME = 'irma-demo.MijnOverheid.fullName';

let redis: RedisProcess;
let proxy: RoundRobinProxy;
let servers: ServerProcess[];
let schemes: SchemeRegistry;
let walletDir: string;

const client = (fetchFn?: FetchFn) => new IrmaClient({ storageDir: walletDir, schemes, fetch: fetchFn });

beforeAll(async () => {
  // Every write on disk before it is acknowledged, so a killed Redis comes back with the sessions.
  redis = await startRedis({ password: PW, extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  proxy = await startProxy();
  servers = await startServers(2, () => [
    '--store-type', 'redis',
    '--redis-addr', redis.addr,
    '--redis-pw', PW,
    '--redis-no-tls',
    '--redis-timeout', '1000',
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', proxy.url,
    '--sse',
  ]);
  proxy.setTargets(servers.map((s) => s.port));
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-outage-wallet-'));
  const pkg = await startSession(proxy.url, {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Bob', firstname: 'Bob', familyname: 'Down', prefix: '' } }],
  });
  if ((await client().runSession(pkg.sessionPtr)).status !== 'DONE') throw new Error('could not fill the wallet');
});

afterAll(async () => {
  await proxy?.close();
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

describe('Redis stopped during a session', () => {
  it('answers 500 INTERNAL_ERROR while it is down, and completes the session once it is back', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held: FetchFn = async (input, init) => {
      if (init?.method === 'POST' && String(input).endsWith('/proofs')) await gate;
      return fetch(input, init);
    };
    const pkg = await startSession(proxy.url, { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.familyname`]]] });
    const events = listen(`${proxy.url}/session/${pkg.token}/statusevents`);
    await events.opened;
    const running = client(held).runSession(pkg.sessionPtr);
    running.catch(() => undefined);
    const end = Date.now() + 15_000;
    while ((await getJson(`${proxy.url}/session/${pkg.token}/status`)).body !== 'CONNECTED') {
      if (Date.now() > end) throw new Error('session did not connect');
      await new Promise((r) => setTimeout(r, 25));
    }

    await redis.stop('SIGKILL');
    for (const s of servers) {
      for (const [method, path, body] of [
        ['GET', `/session/${pkg.token}/status`, undefined],
        ['GET', `/irma/session/${clientTokenOf(pkg)}/status`, undefined],
        ['POST', '/session', JSON.stringify({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`]]] })],
      ] as const) {
        const res = await fetch(`${s.base}${path}`, { method, body, headers: body ? { 'Content-Type': 'application/json' } : {} });
        expect(res.status).toBe(500);
        expect(await res.json()).toEqual({ status: 500, error: 'INTERNAL_ERROR', description: 'Internal server error' });
      }
    }
    expect(servers.every((s) => s.running)).toBe(true);

    await redis.start();
    const back = Date.now() + 15_000;
    for (const s of servers) {
      while ((await getJson(`${s.base}/session/${pkg.token}/status`)).body !== 'CONNECTED') {
        if (Date.now() > back) throw new Error(`process on ${s.port} did not reconnect to Redis`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    release();
    expect((await running).status).toBe('DONE');
    const result = await getJson(`${proxy.url}/session/${pkg.token}/result`);
    expect(result.body).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    // The requestor's stream, held open through the outage, still hears the end.
    await events.ended;
    expect(events.frames).toEqual(['CONNECTED', 'DONE']);
    expect(servers.every((s) => s.running)).toBe(true);
  }, 60_000);
});
