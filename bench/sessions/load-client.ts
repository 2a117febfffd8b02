// One load-generator process of bench/sessions.bench.ts: headless holders (src/client) in a
// process of their own, so their proving is not counted as server CPU and does not share the
// server's event loop. Driven over IPC: each command runs a number of sessions (or only session
// starts) with some concurrency and reports back the count, failures and latencies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IrmaClient } from '../../src/client/client.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { leanFetch } from './lean-fetch.js';
import { rawRequests } from './raw-http.js';

export type LoadCommand =
  | { op: 'init'; schemesPath: string; concurrency: number }
  | { op: 'issue'; base: string; request: unknown }
  | { op: 'sessions'; base: string; request: unknown; count: number }
  | { op: 'starts'; base: string; request: unknown; count: number; connections?: number }
  | { op: 'exit' };

export interface LoadReport {
  ok: number;
  failed: number;
  firstError?: string;
  /** Milliseconds per session (or per start), in completion order. */
  latencies: number[];
  /** CPU this process used during the command, microseconds. */
  cpuMicros: number;
}

let schemes: SchemeRegistry;
let clients: IrmaClient[] = [];
const dirs: string[] = [];

async function startSession(base: string, request: unknown): Promise<object> {
  const res = await leanFetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  if (!res.ok) throw new Error(`POST /session: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { sessionPtr: object }).sessionPtr;
}

async function runOne(client: IrmaClient, base: string, request: unknown): Promise<void> {
  const out = await client.runSession(await startSession(base, request));
  if (out.status !== 'DONE' || out.proofStatus !== 'VALID') throw new Error(`session ended ${out.status} ${out.proofStatus}`);
}

/** `count` jobs spread over the loops (one per client), each loop running its jobs back to back. */
async function loops(count: number, job: (client: IrmaClient) => Promise<void>): Promise<LoadReport> {
  const report: LoadReport = { ok: 0, failed: 0, latencies: [], cpuMicros: 0 };
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < count) {
        next++;
        const t = performance.now();
        try {
          await job(client);
          report.ok++;
          report.latencies.push(performance.now() - t);
        } catch (err) {
          report.failed++;
          report.firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  report.cpuMicros = used.user + used.system;
  return report;
}

async function handle(cmd: LoadCommand): Promise<LoadReport | undefined> {
  switch (cmd.op) {
    case 'init': {
      schemes = await loadSchemes({ schemesPath: cmd.schemesPath });
      clients = Array.from({ length: cmd.concurrency }, () => {
        const dir = mkdtempSync(join(tmpdir(), 'irma-bench-holder-'));
        dirs.push(dir);
        return new IrmaClient({ storageDir: dir, schemes, fetch: leanFetch });
      });
      return undefined;
    }
    case 'issue':
      return loops(clients.length, (c) => runOne(c, cmd.base, cmd.request));
    case 'sessions':
      return loops(cmd.count, (c) => runOne(c, cmd.base, cmd.request));
    case 'starts': {
      // Starts only: the lean client, so the figures are the server's and not fetch's.
      const cpu = process.cpuUsage();
      const r = await rawRequests(`${cmd.base}/session`, 'POST', JSON.stringify(cmd.request), cmd.count, cmd.connections ?? clients.length);
      const used = process.cpuUsage(cpu);
      return { ...r, cpuMicros: used.user + used.system };
    }
    case 'exit':
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      process.exit(0);
  }
}

process.on('message', (cmd: LoadCommand) => {
  handle(cmd).then(
    (report) => process.send!({ ok: true, report }),
    (err: unknown) => process.send!({ ok: false, error: (err as Error).message }),
  );
});
process.send!({ ready: true });
