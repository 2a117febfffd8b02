// Modular inverse by Lehmer's extended Euclid: most quotient steps run on 48-bit leading words in
// plain doubles and are applied to the big values in batches, which is several times faster than
// the one-bigint-division-per-step Euclid of bigint.ts for 1024–4096-bit moduli.
import { bitLength, mod, modInverse } from './bigint.js';

// Leading words stay below 2^48 so every sum, product and quotient below is exact in a double.
const WORD_BITS = 48;
const SMALL = 1n << 64n;

function wordBits(x: number): number {
  let b = x > 0 ? Math.floor(Math.log2(x)) + 1 : 0;
  while (b > 0 && 2 ** (b - 1) > x) b--;
  while (2 ** b <= x) b++;
  return b;
}

export function fastModInverse(a: bigint, m: bigint): bigint {
  return lehmer(a, m, true) as bigint;
}

/** gcd(a, m) === 1 by the same steps without the cofactor: half the big-number work of an inverse. */
export function fastCoprime(a: bigint, m: bigint): boolean {
  return lehmer(a, m, false) as boolean;
}

/** With `cofactor`, a^{−1} mod m (typed error if none); without, whether gcd(a, m) = 1. */
function lehmer(a: bigint, m: bigint, cofactor: boolean): bigint | boolean {
  let u = m;
  let v = mod(a, m);
  let t0 = 0n;
  let t1 = 1n;
  // u only shrinks, so its bit length is tracked from the leading word instead of recomputed.
  let uBits = bitLength(u);
  while (v >= SMALL) {
    let shift = Math.max(0, uBits - WORD_BITS);
    let x = Number(u >> BigInt(shift));
    uBits = shift + wordBits(x);
    if (uBits - shift < WORD_BITS - 8 && shift > 0) {
      shift = Math.max(0, uBits - WORD_BITS);
      x = Number(u >> BigInt(shift));
    }
    let y = Number(v >> BigInt(shift));
    let A = 1, B = 0, C = 0, D = 1;
    for (;;) {
      if (y + C <= 0 || y + D <= 0) break;
      const q = Math.floor((x + A) / (y + C));
      if (q !== Math.floor((x + B) / (y + D))) break;
      let T = A - q * C;
      A = C;
      C = T;
      T = B - q * D;
      B = D;
      D = T;
      T = x - q * y;
      x = y;
      y = T;
    }
    if (B === 0) {
      const q = u / v;
      [u, v] = [v, u - q * v];
      if (cofactor) [t0, t1] = [t1, t0 - q * t1];
    } else {
      const [bA, bB, bC, bD] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)];
      [u, v] = [bA * u + bB * v, bC * u + bD * v];
      if (cofactor) [t0, t1] = [bA * t0 + bB * t1, bC * t0 + bD * t1];
    }
  }
  while (v !== 0n) {
    const q = u / v;
    [u, v] = [v, u - q * v];
    if (cofactor) [t0, t1] = [t1, t0 - q * t1];
  }
  // Every step above maps (u, v) by an integer matrix of determinant ±1, so u ends as ±gcd
  // whether or not a batched quotient was the true one.
  if (!cofactor) return u === 1n || u === -1n;
  const inv = mod(t0, m);
  // One multiplication guards the batched steps; anything odd defers to the plain algorithm,
  // which also raises the typed error for values that have no inverse.
  if (u === 1n && (mod(a, m) * inv) % m === 1n % m) return inv;
  return modInverse(a, m);
}
