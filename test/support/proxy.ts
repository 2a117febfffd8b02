// A round-robin HTTP reverse proxy on loopback, standing in for the load balancer in front of
// several server processes: each request goes to the next target, bodies and server-sent
// event streams are piped through as they come, and every request is logged with its target.
//
// With `retry`, it behaves like a load balancer with health checks in front of processes that
// restart: a request whose connection is refused (the process is down, or not yet listening) goes
// to the next target, as nginx's `proxy_next_upstream error` or HAProxy's `retry-on conn-failure`
// do. A request a process accepted is never sent twice: a reset or a cut response is the client's
// failure. Like nginx by default, it opens a new upstream connection per request, so no request
// races a process closing an idle kept-alive connection.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Index into the targets the request was sent to. */
  target: number;
  /** HTTP status the target answered; 502 when it could not be reached. */
  status?: number;
  /** Targets that refused the connection before this one, with `retry`. */
  retried?: number;
}

export interface ProxyOptions {
  /** Send a request that could not be delivered to the next target (see above). */
  retry?: boolean;
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

export async function startProxy(targets: number[] = [], opts: ProxyOptions = {}): Promise<RoundRobinProxy> {
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

  /** Buffers the body (so it can be sent again), then tries targets until one takes the request. */
  const forwardWithRetry = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', target: -1, retried: 0 };
      log.push(entry);
      const tryNext = (left: number): void => {
        if (ports.length === 0 || left === 0) {
          entry.status ??= 502;
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream unreachable');
          return;
        }
        const target = next++ % ports.length;
        entry.target = target;
        let answered = false;
        const upstream = httpRequest(
          { host: '127.0.0.1', port: ports[target], method: req.method, path: req.url, headers: req.headers, agent: false },
          (up) => {
            answered = true;
            entry.status = up.statusCode;
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.flushHeaders();
            up.pipe(res);
            up.on('error', () => res.destroy());
          },
        );
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          if (!answered && err.code === 'ECONNREFUSED' && !res.destroyed) {
            entry.retried!++;
            // After a whole round of refusals, wait a little: every target may be restarting.
            setTimeout(() => tryNext(left - 1), entry.retried! % ports.length === 0 ? 50 : 0);
            return;
          }
          entry.status ??= 502;
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream unreachable');
          else res.destroy();
        });
        res.on('close', () => upstream.destroy());
        upstream.end(body);
      };
      // Each target may be tried many times: about 5 s in all when every one refuses.
      tryNext(Math.max(ports.length, 1) * 100);
    });
  };

  const server = createServer(opts.retry ? forwardWithRetry : forward);
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
