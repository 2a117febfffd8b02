// The issuer's prime search: the block sieve marks exactly the candidates with a small odd prime
// factor, and what the search returns is a prime inside the range it was asked for.
import { checkPrimeSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomPrimeAbove, sieveBlock } from '../../src/idemix/prime-search.js';

const SMALL_ODD_PRIMES = (() => {
  const out: number[] = [];
  for (let p = 3; p < 1 << 15; p += 2) if (out.every((q) => q * q > p || p % q !== 0)) out.push(p);
  return out;
})();

/** Trial division of each candidate start + 2k, from start mod p alone (no inverses of 2). */
function divisibleBySmallPrime(start: bigint, blockSize: number): boolean[] {
  const out = new Array<boolean>(blockSize).fill(false);
  for (const p of SMALL_ODD_PRIMES) {
    const r = Number(start % BigInt(p));
    for (let k = 0; k < blockSize; k++) if ((r + 2 * k) % p === 0) out[k] = true;
  }
  return out;
}

describe('sieveBlock', () => {
  it('marks exactly the candidates with an odd prime factor below 2^15', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n << 20n, max: 1n << 600n }), (x) => {
        const start = x | 1n;
        const marked = sieveBlock(start);
        const expected = divisibleBySmallPrime(start, marked.length);
        expect([...marked].map((m) => m === 1)).toEqual(expected);
      }),
      { numRuns: 12 },
    );
  });
});

describe('randomPrimeAbove', () => {
  it('gives primes of the shape of an issuer exponent e (2^596 + odd offset below 2^119)', () => {
    const base = 1n << 596n;
    const seen = new Set<bigint>();
    for (let i = 0; i < 8; i++) {
      const e = randomPrimeAbove(base, 119, 20);
      expect(e > base && e < base + (1n << 119n)).toBe(true);
      expect(checkPrimeSync(e, { checks: 40 })).toBe(true);
      seen.add(e);
    }
    expect(seen.size).toBe(8);
  });

  it('stays inside a range too small for a whole block', () => {
    const base = 1n << 40n;
    for (let i = 0; i < 20; i++) {
      const p = randomPrimeAbove(base, 10, 20);
      expect(p > base && p < base + 1024n).toBe(true);
      expect(checkPrimeSync(p)).toBe(true);
    }
  });

  it('gives primes of the shape of a revocation attribute e (8 + odd offset below 2^195)', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 8; i++) {
      const e = randomPrimeAbove(8n, 195, 20);
      expect(e > 8n && e < 8n + (1n << 195n)).toBe(true);
      expect(checkPrimeSync(e, { checks: 40 })).toBe(true);
      seen.add(e);
    }
    expect(seen.size).toBe(8);
  });

  it('refuses an odd base, or a range the sieve bound would fill', () => {
    expect(() => randomPrimeAbove(1001n, 8, 20)).toThrow(RangeError);
    expect(() => randomPrimeAbove((1n << 40n) + 1n, 8, 20)).toThrow(RangeError);
    expect(() => randomPrimeAbove(8n, 16, 20)).toThrow(RangeError);
    // No offset at all would leave only the even base: no prime to find.
    expect(() => randomPrimeAbove(1n << 40n, 0, 20)).toThrow(RangeError);
    expect(() => randomPrimeAbove(1n << 40n, 1.5, 20)).toThrow(RangeError);
  });
});
