// Two authority processes on one PostgreSQL and one Redis behind a round-robin proxy: sessions
// hop between them, both issue and revoke, and the chain stays one valid chain.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions } from '../../src/server/options.js';
import { decodeUpdate, verifyUpdate } from '../../src/revocation/update.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startProxy, type RoundRobinProxy } from '../support/proxy.js';
import { startRedis, stopAll, type RedisProcess } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { mijnOverheidKey } from '../revocation/fixtures.js';

const ROOT = 'irma-demo.MijnOverheid.root';
const TOKEN = 'shared-token';
const PASSWORD = 'revocation-shared-pw';
const offset = 1795335240_000 - Date.now();
const clock = () => Date.now() + offset;
const now = () => Math.floor(clock() / 1000);

let schemes: SchemeRegistry;
let db: TestDatabase;
let redis: RedisProcess;
let proxy: RoundRobinProxy;
const servers: RunningServer[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  db = await createTestDatabase();
  redis = await startRedis({ password: PASSWORD });
  proxy = await startProxy();
  for (let i = 0; i < 2; i++) {
    servers.push(
      await startServer(
        {
          ...defaultOptions(false),
          port: 0,
          listenAddr: '127.0.0.1',
          url: proxy.url,
          schemesPath: REFERENCE_SCHEMES,
          quiet: true,
          noAuth: false,
          requestors: { req: { authMethod: 'token', key: TOKEN, revokePerms: [ROOT] } },
          storeType: 'redis',
          redis: { redisAddr: redis.addr, redisPw: PASSWORD, redisNoTls: true },
          revocationDbType: 'postgres',
          revocationDbStr: db.dsn,
          revocationSettings: { [ROOT]: { authority: true } },
        },
        { schemes, clock },
      ),
    );
  }
  proxy.setTargets(servers.map((s) => s.port));
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  await proxy?.close();
  await stopAll();
  await db?.drop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const headers = { 'Content-Type': 'application/json', Authorization: TOKEN };
async function post(body: unknown) {
  const res = await fetch(`${proxy.url}/session`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`POST /session ${res.status}: ${await res.text()}`);
  return (await res.json()) as { token: string; sessionPtr: { u: string; irmaqr: string } };
}
const revoke = (key: string) =>
  fetch(`${proxy.url}/revocation`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ '@context': 'https://irma.app/ld/request/revocation/v1', type: ROOT, revocationKey: key }),
  });

async function wallet() {
  const dir = await mkdtemp(join(tmpdir(), 'irma-rev-shared-'));
  dirs.push(dir);
  return new IrmaClient({ storageDir: dir, schemes, pairingPollIntervalMs: 50, now });
}

describe('two processes, one database, one Redis', () => {
  it('issue, disclose and revoke across both, concurrently, keeping one chain', async () => {
    const holders = await Promise.all([wallet(), wallet(), wallet(), wallet()]);
    await Promise.all(
      holders.map(async (h, i) => {
        const pkg = await post({
          '@context': 'https://irma.app/ld/request/issuance/v2',
          credentials: [{ credential: ROOT, attributes: { BSN: `40${i}` }, revocationKey: `h${i}` }],
        });
        expect(await h.runSession(pkg.sessionPtr)).toMatchObject({ status: 'DONE' });
      }),
    );
    // Revocations land on both processes at once.
    const statuses = await Promise.all([revoke('h0'), revoke('h1'), revoke('h2')].map(async (r) => (await r).status));
    expect(statuses).toEqual([200, 200, 200]);
    const served = decodeUpdate(new Uint8Array(await (await fetch(`${proxy.url}/irma/revocation/${ROOT}/update/0/2`)).arrayBuffer()))!;
    expect(verifyUpdate(served, mijnOverheidKey).index).toBe(3);

    const disclose = { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${ROOT}.BSN`]]], revocation: [ROOT] };
    const ok = await post(disclose);
    await holders[3].runSession(ok.sessionPtr);
    const result = await (await fetch(`${proxy.url}/session/${ok.token}/result`, { headers })).json();
    expect(result).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(result.disclosed[0][0]).toMatchObject({ rawvalue: '403', notrevoked: true });
    const refused = await post(disclose);
    await expect(holders[1].runSession(refused.sessionPtr)).rejects.toThrow();
    // Requests really went to both processes.
    expect(new Set(proxy.log.map((r) => r.target)).size).toBe(2);
  });
});
