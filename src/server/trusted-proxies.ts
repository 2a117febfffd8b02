// trusted_proxies: which peers' X-Forwarded-For is believed. Fastify (through proxy-addr) then
// gives request.ip as the nearest address in that header not itself a trusted proxy, which is
// what the per-address session rate limit counts. Anyone can send the header, so it is believed
// only from the listed peers: by default from none.
import { isIP } from 'node:net';
import { OptionsError } from './options.js';

/** The names proxy-addr knows for ranges of private and local addresses. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR range (address/prefix length) or one of the range names. */
export function isTrustedProxy(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = entry.slice(slash + 1);
  // A prefix of 0 is every address: anyone could name the client (and proxy-addr refuses it).
  return /^\d{1,3}$/.test(bits) && Number(bits) >= 1 && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Fastify's trustProxy for the option: false (the connection's address) when nothing is listed.
 * Checked here too, for servers configured by code rather than by the command.
 */
export function trustProxyOf(trusted: readonly string[] | undefined): string[] | false {
  for (const entry of trusted ?? []) {
    if (!isTrustedProxy(entry)) throw new OptionsError(`trusted_proxies: "${entry}" is not an address, a CIDR range (prefix 1 or more), loopback, linklocal or uniquelocal`);
  }
  return trusted !== undefined && trusted.length > 0 ? [...trusted] : false;
}
