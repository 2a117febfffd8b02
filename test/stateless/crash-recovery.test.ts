// Recovery after a crash: a process is killed with kill -9 while it holds the claim on an app's
// POST of proofs. The app's retry on another process must complete within a couple of seconds
// (not after the claim's lifetime), while a retry that reaches another process as long as the
// claimant lives still waits for it, so the work is not done twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import type { FetchFn } from '../../src/client/transport.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { endpoint } from '../server/live.js';
import { startRedis, stopAll, type RedisProcess } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import {
  callbackReceiver,
  getJson,
  startServers,
  startSession,
  stopAllServers,
  type CallbackReceiver,
  type ServerProcess,
} from '../support/server-process.js';

const PW = 'crash-' + randomBytes(8).toString('hex');
const FULLNAME = 'irma-demo.MijnOverheid.fullName';
/** Pointers name this address; the test's fetch sends each request to the process it chooses. */
const POINTER_BASE = 'http://127.0.0.1:9';

let redis: RedisProcess;
let servers: ServerProcess[];
let schemes: SchemeRegistry;
let walletDir: string;
let callbacks: CallbackReceiver;

/** Requests go to `to()`; the pointer's placeholder address is replaced by that process's. */
const routed = (to: () => ServerProcess): FetchFn => (input, init) => fetch(String(input).replace(POINTER_BASE, to().base), init);
const newClient = (fetchFn?: FetchFn) => new IrmaClient({ storageDir: walletDir, schemes, fetch: fetchFn, requestTimeoutMs: 60_000 });

beforeAll(async () => {
  redis = await startRedis({ password: PW });
  callbacks = await callbackReceiver();
  servers = await startServers(2, () => [
    '--store-type', 'redis',
    '--redis-addr', redis.addr,
    '--redis-pw', PW,
    '--redis-no-tls',
    '--schemes-path', REFERENCE_SCHEMES,
    '--url', POINTER_BASE,
    '--allow-unsigned-callbacks',
    '--crypto-workers', '1',
  ], 60_000);
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-crash-wallet-'));
  const pkg = await startSession(servers[1].base, {
    '@context': 'https://irma.app/ld/request/issuance/v2',
    credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Alice', firstname: 'Alice', familyname: 'Example', prefix: 'van' } }],
  });
  if ((await newClient(routed(() => servers[1])).runSession(pkg.sessionPtr)).status !== 'DONE') throw new Error('could not fill the wallet');
}, 120_000);

afterAll(async () => {
  await callbacks?.close();
  await stopAllServers();
  await stopAll();
  if (walletDir) await rm(walletDir, { recursive: true, force: true });
});

describe('kill -9 of the process holding the claim on the proofs', () => {
  it('lets the retry on another process complete within seconds, once, while a live claimant is waited for', async () => {
    const [victim, survivor] = servers;
    // The requestor's next-session endpoint: the victim's call hangs (it dies meanwhile), later ones get 204.
    const hanging: ServerResponse[] = [];
    const next = await endpoint((_r, res) => (hanging.length === 0 ? hanging.push(res) : res.writeHead(204).end()));
    try {
      const pkg = await startSession(survivor.base, {
        callbackUrl: callbacks.url,
        nextSession: { url: next.url },
        request: { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`]]] },
      });
      const before = callbacks.received.length;
      let retryMs = -1;
      const app: FetchFn = async (input, init) => {
        if (init?.method !== 'POST' || !/\/proofs$/.test(String(input))) return routed(() => survivor)(input, init);
        // The victim claims the proofs, verifies them and calls the next-session URL, which hangs.
        const first = routed(() => victim)(input, init);
        first.catch(() => undefined);
        await next.waitFor(1, 30_000);
        // The same proofs at the survivor wait: the claimant is alive.
        const retry = routed(() => survivor)(input, init);
        const waited = await Promise.race([retry.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 2500))]);
        expect(waited).toBe('waiting');
        expect(next.received).toHaveLength(1);
        const killed = Date.now();
        await victim.kill('SIGKILL');
        await expect(first).rejects.toThrow();
        const res = await retry;
        retryMs = Date.now() - killed;
        return res;
      };
      const out = await newClient(app).runSession(pkg.sessionPtr);
      console.log(`crash recovery: the retry answered ${retryMs} ms after kill -9 of the claimant (claim lifetime 30+ s)`);
      expect(out).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
      // Far below the claim's lifetime (30 s for a chained session, 40 s for verification).
      expect(retryMs).toBeGreaterThanOrEqual(0);
      expect(retryMs).toBeLessThan(15_000);
      // The session finished once: one result, one callback; the survivor called the next-session
      // URL once more (the victim's call was cut by its death).
      const result = await getJson(`${survivor.base}/session/${pkg.token}/result`);
      expect(result.body).toMatchObject({ status: 'DONE', proofStatus: 'VALID' });
      await callbacks.waitFor(before + 1);
      await new Promise((r) => setTimeout(r, 500));
      expect(callbacks.received.slice(before)).toHaveLength(1);
      expect(next.received).toHaveLength(2);
    } finally {
      for (const res of hanging) res.destroy();
      await next.close();
    }
  }, 150_000);
});
