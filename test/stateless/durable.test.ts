// --redis-wait-replicas: the write that finishes a session (DONE, CANCELLED), and the claim on the
// app's POST, wait for replica acknowledgement; when too few replicas acknowledge, the session is
// still finished for everyone, the client still gets its answer, and the process logs a warning.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startRedis, stopAll, waitFor, type RedisProcess } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { clientTokenOf, getJson, startServers, startSession, stopAllServers, type ServerProcess } from '../support/server-process.js';
import { stempasIssuance } from './requests.js';

const PW = 'durable-' + randomBytes(8).toString('hex');
const WARNING = 'session change committed but not acknowledged by enough Redis replicas';

let master: RedisProcess;
let replica: RedisProcess;
/** [0] waits for the one replica there is; [1] waits for two, which never come. */
let servers: ServerProcess[];
let schemes: SchemeRegistry;
let walletDir: string;

const issuance = stempasIssuance;
const warnings = (s: ServerProcess) => s.output.split('\n').filter((l) => l.includes(WARNING)).length;

beforeAll(async () => {
  const auth = ['--masterauth', PW];
  master = await startRedis({ password: PW, extraArgs: auth });
  replica = await startRedis({ password: PW, extraArgs: [...auth, '--replicaof', '127.0.0.1', String(master.port)] });
  await waitFor(async () => (await master.cli(['INFO', 'replication'], { password: PW })).includes('state=online'));
  servers = await startServers(2, (i, port) => [
    '--store-type', 'redis',
    '--redis-addr', master.addr,
    '--redis-pw', PW,
    '--redis-no-tls',
    '--redis-wait-replicas', String(i + 1),
    '--redis-wait-timeout', '200',
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', `http://127.0.0.1:${port}`,
  ]);
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-durable-wallet-'));
});

afterAll(async () => {
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

describe('durable writes of finished sessions', () => {
  it('has the replica hold the DONE session the moment the app gets its signatures', async () => {
    const [acked] = servers;
    const pkg = await startSession(acked.base, issuance('acknowledged'));
    const ct = clientTokenOf(pkg);
    const key = `irma:{${ct.slice(0, 4)}}:session:${ct}`;
    const client = new IrmaClient({
      storageDir: walletDir,
      schemes,
      // Read the replica as soon as the app has the server's answer, before anything else happens.
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (init?.method === 'POST' && String(input).endsWith('/commitments')) {
          const stored = await replica.cli(['GET', key], { password: PW });
          expect(JSON.parse(stored.slice(stored.indexOf(':') + 1)).status).toBe('DONE');
        }
        return res;
      },
    });
    expect((await client.runSession(pkg.sessionPtr)).status).toBe('DONE');
    expect(warnings(acked)).toBe(0);
  });

  it('still answers the app and finishes the session when too few replicas acknowledge', async () => {
    const [, short] = servers;
    const pkg = await startSession(short.base, issuance('unacknowledged'));
    const out = await new IrmaClient({ storageDir: walletDir, schemes }).runSession(pkg.sessionPtr);
    expect(out).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
    expect(out.issued).toHaveLength(1);
    expect((await getJson(`${servers[0].base}/session/${pkg.token}/result`)).body).toMatchObject({ status: 'DONE' });
    // The claim on the commitments and the finishing write waited (CONNECTED did not): two warnings.
    expect(warnings(short)).toBe(2);

    const cancelled = await startSession(short.base, issuance('cancelled'));
    const res = await fetch(`${short.base}/session/${cancelled.token}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect((await getJson(`${short.base}/session/${cancelled.token}/status`)).body).toBe('CANCELLED');
    expect(warnings(short)).toBe(3);
  });
});
