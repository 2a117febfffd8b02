// A lean HTTP/1.1 client for the session-start figures: keep-alive sockets, one request in
// flight per socket, responses framed by Content-Length. Node's fetch spends ~0.3 ms of CPU
// and latency per request on its own, which hid the server's share of POST /session (its p50
// read 0.95 ms through fetch and 0.46 ms through this client, for the same server); the Go
// reference's figures were taken with Go's far cheaper client.
import { connect, type Socket } from 'node:net';

export interface RawReport {
  ok: number;
  failed: number;
  firstError?: string;
  latencies: number[];
}

/** Sends `count` copies of one request over `connections` sockets, each waiting for its answer before the next. */
export async function rawRequests(url: string, method: string, body: string, count: number, connections: number): Promise<RawReport> {
  const target = new URL(url);
  const head =
    `${method} ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const request = Buffer.from(head + body);
  const report: RawReport = { ok: 0, failed: 0, latencies: [] };
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const open = Math.max(1, Math.min(connections, count));
    if (count === 0) return resolve();
    for (let i = 0; i < open; i++) {
      const socket: Socket = connect(Number(target.port), target.hostname);
      socket.setNoDelay(true);
      let pending: Buffer = Buffer.alloc(0);
      let started = 0;
      const next = () => {
        if (sent >= count) return void socket.end();
        sent++;
        started = performance.now();
        socket.write(request);
      };
      socket.on('connect', next);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          const header = pending.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(header)?.[1] ?? 0);
          if (pending.length < end + 4 + length) return;
          const status = Number(header.slice(9, 12));
          if (status === 200) {
            report.ok++;
            report.latencies.push(performance.now() - started);
          } else {
            report.failed++;
            report.firstError ??= `${status} ${pending.subarray(end + 4, end + 4 + length).toString()}`;
          }
          pending = pending.subarray(end + 4 + length);
          if (++done === count) resolve();
          next();
        }
      });
    }
  });
  return report;
}
