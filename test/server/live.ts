// Servers on real sockets, and small HTTP endpoints for callbacks and next sessions.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { defaultOptions, type ServerOptions } from '../../src/server/options.js';
import type { Session } from '../../src/session/session.js';
import { MemoryStore } from '../../src/store/memory.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';
import { referenceSchemes, ScriptedChecker, START } from './harness.js';

export interface LiveServer {
  running: RunningServer;
  base: string;
  checker: ScriptedChecker;
  store: MemoryStore<Session>;
}

export async function startLive(patch: Partial<ServerOptions> = {}, store = new MemoryStore<Session>()): Promise<LiveServer> {
  const checker = new ScriptedChecker();
  // Real time passes (timers, deadlines), but from START: the reference issuer keys expire one day,
  // and a test must not expire with them.
  const offset = START - Date.now();
  const running = await startServer(
    { ...defaultOptions(false), schemesPath: REFERENCE_SCHEMES, port: 0, listenAddr: '127.0.0.1', url: '', ...patch },
    { schemes: await referenceSchemes(), store, checker, clock: () => Date.now() + offset, logger: pino({ level: 'silent' }) },
  );
  return { running, base: `http://127.0.0.1:${running.port}`, checker, store };
}

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A tiny HTTP endpoint that records POSTs and answers with `respond`. */
export async function endpoint(respond: (r: Received, res: ServerResponse) => void) {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r = { headers: req.headers, body };
      received.push(r);
      respond(r, res);
      waiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/endpoint`;
  return {
    url,
    received,
    /** Resolves once `n` requests arrived. */
    async waitFor(n: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} requests, got ${received.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const JSON_HEADERS = { 'content-type': 'application/json' };
