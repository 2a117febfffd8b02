// One info line per request, read from the server's real log output: method, route template
// (never the URL, which holds session tokens), status, duration, and the request id, taken from
// a well-formed X-Request-Id or made fresh, and echoed in the response.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchemes } from '../../src/scheme/loader.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions } from '../../src/server/options.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
}

const output: string[] = [];
let server: RunningServer;
let base: string;

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => void output.push(line) });
  server = await startServer(
    { ...defaultOptions(false), port: 0, listenAddr: '127.0.0.1', url: 'http://127.0.0.1:port', schemesPath: REFERENCE_SCHEMES, cryptoWorkers: 0 },
    { schemes: await loadSchemes({ schemesPath: REFERENCE_SCHEMES }), logger },
  );
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.close());

const requestLines = (): Line[] => output.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request');

/** The log line of the request that got `response`, found by the id the response carries. */
async function lineOf(response: Response): Promise<Line> {
  const id = response.headers.get('x-request-id');
  expect(id).toBeTruthy();
  // The line is written when the response has finished, just after the client has it.
  for (let i = 0; i < 100; i++) {
    const line = requestLines().find((l) => l.reqId === id);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no log line for request ${id}:\n${output.join('')}`);
}

describe('request log', () => {
  it('logs method, route template, status, duration and the caller\'s request id at info; never the token', async () => {
    const started = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'lb-7f3a.2026:42' },
      body: JSON.stringify({ '@context': 'https://irma.app/ld/request/disclosure/v2', disclose: [[['irma-demo.MijnOverheid.fullName.firstname']]] }),
    });
    expect(started.status).toBe(200);
    expect(started.headers.get('x-request-id')).toBe('lb-7f3a.2026:42');
    const { token, sessionPtr } = (await started.json()) as { token: string; sessionPtr: { u: string } };
    const line = await lineOf(started);
    expect(line).toMatchObject({ level: 30, reqId: 'lb-7f3a.2026:42', method: 'POST', route: '/session', status: 200 });
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    expect(line.durationMs).toBeLessThan(60_000);

    const status = await fetch(`${base}/session/${token}/status`);
    expect(await lineOf(status)).toMatchObject({ method: 'GET', route: '/session/:rt/status', status: 200 });
    // Without the app's protocol version headers: refused, and logged as such.
    const app = await fetch(`${sessionPtr.u}`);
    expect(await lineOf(app)).toMatchObject({ method: 'GET', route: '/irma/session/:ct', status: 400 });
    const unknown = await fetch(`${base}/session/${'x'.repeat(20)}/result`);
    expect(await lineOf(unknown)).toMatchObject({ route: '/session/:rt/result', status: 400 });
    const nowhere = await fetch(`${base}/no/such/${token}`);
    expect(await lineOf(nowhere)).toMatchObject({ route: '(unmatched)', status: 404 });

    const all = output.join('');
    expect(all).not.toContain(token);
    expect(all).not.toContain(sessionPtr.u.split('/').pop()!);
  });

  it('replaces an X-Request-Id that is too long or has unsafe characters by a fresh UUID', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const given of ['a'.repeat(129), 'evil" injected=1', 'new\u00e9line', '']) {
      const res = await fetch(`${base}/health/live`, { headers: given === '' ? {} : { 'X-Request-Id': given } });
      expect(res.status).toBe(200);
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(uuid);
      expect(await lineOf(res)).toMatchObject({ reqId: id, route: '/health/live', status: 200 });
    }
    const a = await fetch(`${base}/health/live`);
    const b = await fetch(`${base}/health/live`);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('writes nothing per request when quiet (errors only)', async () => {
    const quiet: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void quiet.push(line) });
    const s = await startServer(
      { ...defaultOptions(false), port: 0, listenAddr: '127.0.0.1', url: 'http://127.0.0.1:port', schemesPath: REFERENCE_SCHEMES, cryptoWorkers: 0 },
      { schemes: await loadSchemes({ schemesPath: REFERENCE_SCHEMES }), logger },
    );
    try {
      expect((await fetch(`http://127.0.0.1:${s.port}/health/live`)).status).toBe(200);
    } finally {
      await s.close();
    }
    expect(quiet).toEqual([]);
  });
});
