// A round-robin HTTP reverse proxy on loopback, standing in for the load balancer in front of
// several server processes: each request goes to the next target, bodies and server-sent
// event streams are piped through as they come, and every request is logged with its target.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Index into the targets the request was sent to. */
  target: number;
  /** HTTP status the target answered; 502 when it could not be reached. */
  status?: number;
}

export interface RoundRobinProxy {
  /** http://127.0.0.1:<port>, without trailing slash. */
  url: string;
  port: number;
  /** Every request so far, in the order the proxy received them. */
  log: ProxiedRequest[];
  /** The ports to forward to; the round-robin position is kept. */
  setTargets(ports: number[]): void;
  close(): Promise<void>;
}

export async function startProxy(targets: number[] = []): Promise<RoundRobinProxy> {
  let ports = [...targets];
  let next = 0;
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (ports.length === 0) {
      res.writeHead(503).end();
      return;
    }
    const target = next++ % ports.length;
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', target };
    log.push(entry);
    const upstream = httpRequest(
      { host: '127.0.0.1', port: ports[target], method: req.method, path: req.url, headers: req.headers },
      (up) => {
        entry.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        // Server-sent events must reach the listener frame by frame, not when the stream ends.
        res.flushHeaders();
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      entry.status ??= 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream unreachable');
      else res.destroy();
    });
    // The listener hung up (an SSE client closing): drop the upstream connection too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };

  const server = createServer(forward);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    setTargets(p: number[]) {
      ports = [...p];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
