// /metrics after real sessions of each type over HTTP (the headless client plays the app):
// sessions started and finished by type and status, durations, verification times, store
// operations, rejected requests, SSE listeners. And where /metrics is served: the main listener
// in development, only metrics_port in production; the health probes beside it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions, type ServerOptions } from '../../src/server/options.js';
import { freePort, startRedis, stopAll } from '../support/redis.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { listen } from '../support/server-process.js';

const FULLNAME = 'irma-demo.MijnOverheid.fullName';
// The reference issuer keys expire in 2030: server and client keep time from 2026-11-22 on.
const offset = 1795335240_000 - Date.now();
const clock = () => Date.now() + offset;

/** The samples of a Prometheus text exposition: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

/** The value of `name` with exactly these labels (in any order), or undefined. */
function sample(all: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const [key, value] of all) {
    const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key)!;
    if (m[1] !== name) continue;
    const have = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter((s) => s !== '').sort().join(',');
    if (have === want) return value;
  }
  return undefined;
}

let schemes: SchemeRegistry;
let client: IrmaClient;
let walletDir: string;

async function irmaServer(extra: Partial<ServerOptions> = {}): Promise<{ server: RunningServer; base: string }> {
  const options: ServerOptions = {
    ...defaultOptions(false),
    port: 0,
    listenAddr: '127.0.0.1',
    url: 'http://127.0.0.1:port',
    schemesPath: REFERENCE_SCHEMES,
    quiet: true,
    sse: true,
    cryptoWorkers: 0,
    ...extra,
  };
  const server = await startServer(options, { schemes, clock });
  return { server, base: `http://127.0.0.1:${server.port}` };
}

async function post(base: string, body: unknown): Promise<{ token: string; sessionPtr: { u: string; irmaqr: string } }> {
  const res = await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as { token: string; sessionPtr: { u: string; irmaqr: string } };
}

beforeAll(async () => {
  schemes = await loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  walletDir = await mkdtemp(join(tmpdir(), 'irma-metrics-wallet-'));
  client = new IrmaClient({ storageDir: walletDir, schemes, now: () => Math.floor(clock() / 1000) });
});
afterAll(async () => {
  await rm(walletDir, { recursive: true, force: true });
  await stopAll();
});

describe('/metrics after sessions of each type', () => {
  it('counts sessions started and finished by type and status, with durations, verifications, store operations and rejections', async () => {
    const { server, base } = await irmaServer();
    try {
      const disclosure = { '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[[`${FULLNAME}.firstname`]]] };
      const issued = await post(base, {
        '@context': 'https://irma.app/ld/request/issuance/v2',
        credentials: [{ credential: FULLNAME, attributes: { firstnames: 'Alice', firstname: 'Alice', familyname: 'Example', prefix: '' } }],
      });
      expect(await client.runSession(issued.sessionPtr)).toMatchObject({ status: 'DONE' });
      expect(await client.runSession((await post(base, disclosure)).sessionPtr)).toMatchObject({ status: 'DONE' });
      const signed = await post(base, { '@context': 'https://irma.app/ld/request/signature/v2', message: 'yes', disclose: [[[`${FULLNAME}.familyname`]]] });
      expect(await client.runSession(signed.sessionPtr)).toMatchObject({ status: 'DONE' });
      // Refused by the holder, and cancelled by the requestor.
      await client.runSession((await post(base, disclosure)).sessionPtr, { permission: async () => false });
      const dropped = await post(base, disclosure);
      // An SSE listener on the dropped session, counted while it is open.
      const stream = listen(`${base}/session/${dropped.token}/statusevents`);
      await stream.opened;
      const during = samples(await (await fetch(`${base}/metrics`)).text());
      expect(sample(during, 'irma_sse_listeners')).toBe(1);
      expect((await fetch(`${base}/session/${dropped.token}`, { method: 'DELETE' })).status).toBe(200);
      await stream.ended;
      // Two rejected requests: an unknown session, and a body that is no session request.
      expect((await fetch(`${base}/session/aaaaaaaaaaaaaaaaaaaa/status`)).status).toBe(400);
      expect((await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(400);

      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const m = samples(await res.text());
      expect(sample(m, 'irma_sse_listeners')).toBe(0);
      expect(sample(m, 'irma_sessions_started_total', { type: 'issuing' })).toBe(1);
      expect(sample(m, 'irma_sessions_started_total', { type: 'signing' })).toBe(1);
      expect(sample(m, 'irma_sessions_started_total', { type: 'disclosing' })).toBe(3);
      expect(sample(m, 'irma_sessions_finished_total', { type: 'issuing', status: 'DONE' })).toBe(1);
      expect(sample(m, 'irma_sessions_finished_total', { type: 'signing', status: 'DONE' })).toBe(1);
      expect(sample(m, 'irma_sessions_finished_total', { type: 'disclosing', status: 'DONE' })).toBe(1);
      expect(sample(m, 'irma_sessions_finished_total', { type: 'disclosing', status: 'CANCELLED' })).toBe(2);
      expect(sample(m, 'irma_session_duration_seconds_count', { type: 'disclosing', status: 'CANCELLED' })).toBe(2);
      expect(sample(m, 'irma_session_duration_seconds_bucket', { type: 'issuing', status: 'DONE', le: '+Inf' })).toBe(1);
      for (const kind of ['issuance', 'disclosure', 'signature']) {
        expect(sample(m, 'irma_proof_verification_duration_seconds_count', { kind, proof_status: 'VALID' })).toBe(1);
      }
      expect(sample(m, 'irma_crypto_jobs_in_flight')).toBe(0);
      expect(sample(m, 'irma_store_operation_duration_seconds_count', { operation: 'create' })).toBe(5);
      expect(sample(m, 'irma_store_operation_duration_seconds_count', { operation: 'update' })).toBeGreaterThanOrEqual(5);
      expect(sample(m, 'irma_http_requests_rejected_total', { status: '400', error: 'SESSION_UNKNOWN' })).toBe(1);
      expect(sample(m, 'irma_http_requests_rejected_total', { status: '400', error: 'INVALID_REQUEST' })).toBe(1);
      expect(sample(m, 'irma_http_request_duration_seconds_count', { method: 'POST', route: '/session', status: '200' })).toBe(5);
      expect(sample(m, 'irma_http_request_duration_seconds_count', { method: 'DELETE', route: '/session/:rt', status: '200' })).toBe(1);
      expect(sample(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      // No session token in any label.
      expect([...m.keys()].join('\n')).not.toContain(dropped.token);
    } finally {
      await server.close();
    }
  });

  it('counts store errors: with Redis gone, readiness fails while liveness holds', async () => {
    const redis = await startRedis({ password: 'pw' });
    const { server, base } = await irmaServer({
      storeType: 'redis',
      redis: { redisAddr: redis.addr, redisPw: 'pw', redisNoTls: true, redisTimeoutMs: 500 },
    });
    try {
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      await redis.stop();
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe('session store unreachable');
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const m = samples(await (await fetch(`${base}/metrics`)).text());
      expect(sample(m, 'irma_store_errors_total', { operation: 'ping', code: 'UNAVAILABLE' })).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
    }
  });
});

describe('where /metrics is served', () => {
  it('production: not on the main listener; on metrics_port, on loopback, with the health probes', async () => {
    const metricsPort = await freePort();
    const { server, base } = await irmaServer({
      production: true,
      url: 'https://irma.example.com',
      noAuth: false,
      requestors: { r: { authMethod: 'token', key: 'secret-token' } },
      metricsPort,
    });
    try {
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      expect(server.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}`);
      const scraped = await fetch(`${server.metricsUrl}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('irma_sessions_started_total');
      expect((await fetch(`${server.metricsUrl}/health/ready`)).status).toBe(200);
      expect((await fetch(`${server.metricsUrl}/session`, { method: 'POST', body: '{}' })).status).toBe(404);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
