// Pure-bigint multi-exponentiation (Straus: interleaved 4-bit windows sharing one chain of
// squarings). Used when OpenSSL cannot take the modulus (below 512 bits, even, or refused).
import { bitLength } from './bigint.js';

const WINDOW = 4;

/** Π base_i^exp_i mod n for reduced bases and positive exponents. */
export function multiExpPure(n: bigint, terms: ReadonlyArray<readonly [bigint, bigint]>): bigint {
  const one = 1n % n;
  if (terms.length === 0) return one;
  const tables = terms.map(([b]) => {
    const t: bigint[] = [one, b];
    for (let i = 2; i < 1 << WINDOW; i++) t.push((t[i - 1] * b) % n);
    return t;
  });
  const windows = Math.ceil(Math.max(...terms.map(([, e]) => bitLength(e))) / WINDOW);
  const mask = BigInt((1 << WINDOW) - 1);
  let r = one;
  for (let w = windows - 1; w >= 0; w--) {
    if (w !== windows - 1) for (let s = 0; s < WINDOW; s++) r = (r * r) % n;
    const shift = BigInt(w * WINDOW);
    for (let i = 0; i < terms.length; i++) {
      const d = Number((terms[i][1] >> shift) & mask);
      if (d !== 0) r = (r * tables[i][d]) % n;
    }
  }
  return r;
}
