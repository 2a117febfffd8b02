// Slow clients and connection floods: Node checks its header and request timeouts only every 30 s
// unless told otherwise, and caps no connections. With the limits, slow and idle connections are
// closed within the header timeout, one address holds at most max_connections_per_client of them,
// and ordinary requests from elsewhere keep answering within a second throughout.
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLive, type LiveServer } from '../server/live.js';

const ORDINARY_CLIENT = '127.0.0.2';

let server: LiveServer | undefined;
afterEach(async () => {
  await server?.running.close();
  server = undefined;
});

interface Outcome {
  /** ms from connecting until the server closed the connection. */
  closedAfter: number;
  /** What the server wrote before closing. */
  answer: string;
}

/** A connection from `localAddress`; `drip` sends a request one byte per `everyMs`. */
function client(port: number, localAddress: string, drip?: { everyMs: number }): { socket: Socket; outcome: Promise<Outcome> } {
  const started = Date.now();
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let answer = '';
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (answer += d));
  socket.on('error', () => undefined);
  if (drip) {
    const text = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(10_000);
    let i = 0;
    socket.on('connect', () => {
      timer = setInterval(() => socket.write(text[i++ % text.length]), drip.everyMs);
    });
  }
  const outcome = new Promise<Outcome>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfter: Date.now() - started, answer });
    }),
  );
  return { socket, outcome };
}

/** GET /health from the ordinary client's address every 100 ms until `until` settles; the latencies. */
async function ordinaryTraffic(port: number, until: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const t0 = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/health', localAddress: ORDINARY_CLIENT, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    latencies.push(Date.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  return latencies;
}

describe('slow clients', () => {
  it('300 connections sending headers a byte at a time are closed at the header timeout, not after 30 s', async () => {
    server = await startLive();
    const port = server.running.port;
    // Three addresses, so the per-address cap (256) is not what closes them.
    const slow = Array.from({ length: 300 }, (_, i) => client(port, `127.0.1.${1 + (i % 3)}`, { everyMs: 200 }));
    const all = Promise.all(slow.map((c) => c.outcome));
    const latencies = await ordinaryTraffic(port, all);
    const outcomes = await all;
    const closedAfter = outcomes.map((o) => o.closedAfter);
    console.log(
      `slow clients: 300 closed after ${Math.min(...closedAfter)}–${Math.max(...closedAfter)} ms; ` +
        `${latencies.length} ordinary requests meanwhile, slowest ${Math.max(...latencies)} ms`,
    );
    // read_header_timeout is 2 s, checked every 0.5 s; the machine is loaded, so allow slack.
    expect(Math.max(...closedAfter)).toBeLessThan(6000);
    expect(outcomes.every((o) => o.answer.startsWith('HTTP/1.1 408 '))).toBe(true);
    expect(JSON.parse(outcomes[0].answer.split('\r\n\r\n')[1])).toMatchObject({ status: 408, error: 'INVALID_REQUEST' });
    expect(Math.max(...latencies)).toBeLessThan(1000);
  }, 30_000);
});

describe('connection floods', () => {
  it('3,000 idle connections from one address: at most 256 held, and only until the header timeout', async () => {
    server = await startLive();
    const port = server.running.port;
    const flood: Array<ReturnType<typeof client>> = [];
    // Opened in batches the accept loop (this very thread) keeps up with: beyond the kernel's
    // accept queue, connections would wait in the kernel, never reaching (or costing) the server.
    for (let i = 0; i < 3000; i++) {
      flood.push(client(port, '127.0.0.3'));
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
    }
    const all = Promise.all(flood.map((c) => c.outcome));
    const latencies = await ordinaryTraffic(port, all);
    const outcomes = await all;
    const held = outcomes.filter((o) => o.answer !== '');
    const closedAfter = outcomes.map((o) => o.closedAfter);
    console.log(
      `connection flood: 3000 opened, ${held.length} held until the header timeout (408), ${3000 - held.length} refused at once; ` +
        `all closed within ${Math.max(...closedAfter)} ms; ${latencies.length} ordinary requests, slowest ${Math.max(...latencies)} ms`,
    );
    expect(held.length).toBeLessThanOrEqual(256);
    expect(held.every((o) => o.answer.startsWith('HTTP/1.1 408 '))).toBe(true);
    expect(Math.max(...closedAfter)).toBeLessThan(8000);
    expect(Math.max(...latencies)).toBeLessThan(1000);
  }, 30_000);

  it('max_connections caps a listener in all', async () => {
    server = await startLive({ limits: { maxConnections: 20, maxConnectionsPerClient: 0 } });
    const port = server.running.port;
    const flood = Array.from({ length: 60 }, () => client(port, '127.0.0.3'));
    await new Promise((r) => setTimeout(r, 300));
    const open = flood.filter((c) => !c.socket.destroyed).length;
    expect(open).toBeLessThanOrEqual(20);
    for (const c of flood) c.socket.destroy();
    await Promise.all(flood.map((c) => c.outcome));
    const res = await fetch(`${server.base}/health`);
    expect(res.status).toBe(200);
  });
});

describe('timeouts', () => {
  it('closes a keep-alive connection idle for idle_timeout, and a body that trickles in past read_timeout', async () => {
    server = await startLive({ limits: { idleTimeout: 300, readHeaderTimeout: 500, readTimeout: 800 } });
    const port = server.running.port;
    // Keep-alive: one request answered, then nothing; the server hangs up after the idle timeout.
    const idle = client(port, '127.0.0.4');
    idle.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const idleOutcome = await idle.outcome;
    expect(idleOutcome.answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(idleOutcome.closedAfter).toBeGreaterThanOrEqual(250);
    expect(idleOutcome.closedAfter).toBeLessThan(3000);
    // Headers in time, but the body one byte at a time: 408 once read_timeout has passed.
    const slowBody = client(port, '127.0.0.4');
    slowBody.socket.write('POST /session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const drip = setInterval(() => slowBody.socket.writable && slowBody.socket.write('{'), 50);
    const bodyOutcome = await slowBody.outcome;
    clearInterval(drip);
    console.log(`idle keep-alive closed after ${idleOutcome.closedAfter} ms; trickling body answered 408 after ${bodyOutcome.closedAfter} ms`);
    expect(bodyOutcome.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOutcome.closedAfter).toBeGreaterThanOrEqual(700);
    expect(bodyOutcome.closedAfter).toBeLessThan(4000);
  });
});
