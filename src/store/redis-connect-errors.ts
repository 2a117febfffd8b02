// Why the first connection to Redis fails, in terms of the option to change. Credentials and
// certificates that Redis refuses will not get better by retrying, so they end the connect at
// once; a TLS/plain mismatch shows only as a hang or a reset, so a short probe tells which.

import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { RedisNodeAddress, ResolvedRedisOptions } from './redis-options.js';

/** Node's codes for a server certificate that does not verify (untrusted, expired, wrong name). */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Replies of AUTH/HELLO that mean the credentials, not the network, are wrong. */
const REFUSED_CREDENTIALS = /^(WRONGPASS|NOAUTH|NOPERM)\b|^ERR (AUTH .*without any password configured|invalid password|invalid username-password)/;

/** The options that hold the credentials `mode` authenticates with. */
function credentialOptions(mode: ResolvedRedisOptions['mode']): string {
  const data = '--redis-pw and --redis-username';
  return mode === 'sentinel' ? `${data} (or, for the Sentinels, --redis-sentinel-pw and --redis-sentinel-username)` : data;
}

/**
 * A connection error that retrying cannot cure, as a message naming the option to fix;
 * undefined for anything that may be transient (refused, reset, timed out).
 */
export function fatalConnectError(err: unknown, o: ResolvedRedisOptions): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (REFUSED_CREDENTIALS.test(message)) {
    return `Redis refused the credentials (${message.split(' ')[0]}): check ${credentialOptions(o.mode)}`;
  }
  if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code)) {
    return (
      `the Redis server's TLS certificate does not verify (${message}): give the CA that signed it with ` +
      '--redis-tls-cert-file (or --redis-tls-cert), or set --redis-no-tls if this Redis does not use TLS'
    );
  }
  return undefined;
}

/** Errors after which a plain connection may have been talking to a TLS port. */
export function mayBeTlsPort(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || /Socket closed unexpectedly/.test(message);
}

/** Whether `node` answers a plain RESP PING (with PONG or an error reply such as NOAUTH). */
export function speaksPlainRedis(node: RedisNodeAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: node.host, port: node.port });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk[0] === 0x2b /* + */ || chunk[0] === 0x2d /* - */));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Whether `node` completes a TLS handshake (its certificate is not checked: this only asks "TLS?"). */
export function speaksTls(node: RedisNodeAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTls({ host: node.host, port: node.port, rejectUnauthorized: false });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

export function plainServerMessage(node: RedisNodeAddress): string {
  return `the Redis server at ${node.host}:${node.port} does not speak TLS: set --redis-no-tls (or enable TLS on the server)`;
}

export function tlsServerMessage(node: RedisNodeAddress): string {
  return (
    `the Redis server at ${node.host}:${node.port} expects TLS: remove --redis-no-tls, and give the CA that signed ` +
    'its certificate with --redis-tls-cert-file unless a public CA did'
  );
}
