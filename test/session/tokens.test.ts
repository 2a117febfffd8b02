import { describe, expect, it } from 'vitest';
import {
  newPairingCode,
  newSessionTokens,
  randomAlphanumeric,
  sameSecret,
  TOKEN_PATTERN,
} from '../../src/session/tokens.js';

describe('session tokens', () => {
  it('are 20 alphanumerics; requestor and client token share 4 characters and differ', () => {
    for (let i = 0; i < 200; i++) {
      const t = newSessionTokens();
      for (const tok of [t.requestorToken, t.clientToken, t.frontendAuth]) expect(tok).toMatch(/^[a-zA-Z0-9]{20}$/);
      expect(t.requestorToken.slice(0, 4)).toBe(t.clientToken.slice(0, 4));
      expect(t.requestorToken).not.toBe(t.clientToken);
      expect(t.requestorToken.slice(4)).not.toBe(t.clientToken.slice(4));
    }
  });

  it('reuse a given frontend authorization (chains) and otherwise make an independent one', () => {
    expect(newSessionTokens('FRONTENDauthTOKEN001').frontendAuth).toBe('FRONTENDauthTOKEN001');
    expect(new Set(Array.from({ length: 50 }, () => newSessionTokens().frontendAuth)).size).toBe(50);
  });

  it('use every alphabet character about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const sample = randomAlphanumeric(62 * 2000);
    for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Expected 2000 each; the standard deviation is ~44, a biased generator (bytes % 62) would
    // give the first 8 characters ~25% more.
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(300);
  });

  it('match the route pattern, which is unanchored like the reference', () => {
    expect(TOKEN_PATTERN.test('abc')).toBe(false);
    expect(TOKEN_PATTERN.test('x'.repeat(20))).toBe(true);
  });

  it('pairing codes are 4 digits', () => {
    const codes = new Set(Array.from({ length: 200 }, () => newPairingCode()));
    for (const c of codes) expect(c).toMatch(/^\d{4}$/);
    expect(codes.size).toBeGreaterThan(150);
  });

  it('compares secrets by value, whatever their lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
    expect(sameSecret('abcabc', 'abc')).toBe(false);
  });
});
