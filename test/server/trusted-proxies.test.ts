// The values trusted_proxies accepts: what Fastify's proxy-addr can compile, checked at start-up.
import { describe, expect, it } from 'vitest';
import { isTrustedProxy, trustProxyOf } from '../../src/server/trusted-proxies.js';

describe('trusted_proxies entries', () => {
  it('accepts addresses, CIDR ranges and the range names', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '192.168.0.0/32', '::/1', 'loopback', 'linklocal', 'uniquelocal']) {
      expect(isTrustedProxy(ok), ok).toBe(true);
    }
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'localhost', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.256', 'Loopback', '*', '0.0.0.0/0', '::/0']) {
      expect(isTrustedProxy(bad), bad).toBe(false);
    }
  });

  it('trusts nobody when none are listed', () => {
    expect(trustProxyOf(undefined)).toBe(false);
    expect(trustProxyOf([])).toBe(false);
    expect(trustProxyOf(['loopback'])).toEqual(['loopback']);
  });

  it('refuses a bad entry from code as from the command line', () => {
    expect(() => trustProxyOf(['10.0.0.0/8', '0.0.0.0/0'])).toThrow(/trusted_proxies: "0.0.0.0\/0"/);
  });
});
