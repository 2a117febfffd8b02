// What one listener lets clients hold open: connections in all and per client address, and how long
// a request may take to arrive. Node checks its header and request timeouts only every
// `connectionsCheckingInterval` (30 s by default), so a client sending one byte a second would hold
// a connection for 30 s whatever the timeout says; the interval here follows the timeouts instead.
// Event streams are exempt: once a request has arrived, only the idle (keep-alive) timeout applies
// between requests, and a stream is one long response.
import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { ProtocolError, remoteError } from '../protocol/errors.js';
import { bound, type Limits } from './limits.js';

/** Options for http(s).createServer. */
export function serverTimeouts(limits: Limits) {
  return {
    headersTimeout: limits.readHeaderTimeout,
    requestTimeout: limits.readTimeout,
    keepAliveTimeout: limits.idleTimeout,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.readHeaderTimeout / 4))),
  };
}

/**
 * Caps the connections of `server`: beyond `maxConnections` Node drops new ones itself; beyond
 * `maxConnectionsPerClient` from one address, they are closed at once, before any byte is read.
 */
export function limitConnections(server: HttpServer, limits: Limits): void {
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  const perClient = bound(limits.maxConnectionsPerClient);
  if (limits.maxConnectionsPerClient <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = (open.get(address) ?? 0) + 1;
    if (n > perClient) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * What a client hears when its request never arrived whole (too slow, headers too large, not
 * HTTP): the protocol's error JSON, then the connection closes.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request headers too large']
        : [400, 'malformed HTTP request'];
  const body = JSON.stringify(remoteError(new ProtocolError('INVALID_REQUEST', message, { status })));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=UTF-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
