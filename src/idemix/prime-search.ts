// A random prime from a range: the issuer's signature exponent e, a ~600-bit prime drawn anew for
// every credential. It is the bulk of an issuance's CPU, and the expensive part is Miller–Rabin,
// which a composite fails in its first round. So: one random odd starting point, then the odd
// numbers from there, a block at a time, sieved by every prime below SIEVE_BOUND (one remainder
// per prime for the whole block), and only the survivors go to Miller–Rabin. Compared with
// drawing each candidate anew and trial-dividing it by the primes below 1000, this tests ~40%
// fewer composites and needs one random draw per prime instead of hundreds. Searching upwards
// from a random point is the classic incremental search (as in Go's crypto/rand.Prime of old);
// e is public, so none of this needs to be constant-time.
import { fromBytes } from './bigint.js';
import { probablePrime } from './modexp.js';
import { pooledRandomBytes } from './random-pool.js';

/** Primes below this sieve a block: ~3,500 odd primes, ~0.1 ms of remainders per block. */
const SIEVE_BOUND = 1 << 15;
/** Odd candidates per block: ~2,048/207 ≈ 10 primes expected among them near 2^600. */
const BLOCK = 2048;

const ODD_PRIMES: number[] = (() => {
  const composite = new Uint8Array(SIEVE_BOUND);
  const out: number[] = [];
  for (let p = 3; p < SIEVE_BOUND; p += 2) {
    if (composite[p]) continue;
    out.push(p);
    for (let m = p * p; m < SIEVE_BOUND; m += 2 * p) composite[m] = 1;
  }
  return out;
})();

/** The odd primes in groups whose product stays below 2^53: one bigint remainder per group. */
const GROUPS: { product: bigint; primes: number[] }[] = (() => {
  const groups: { product: bigint; primes: number[] }[] = [];
  for (let i = 0; i < ODD_PRIMES.length; ) {
    const primes: number[] = [];
    let product = 1;
    while (i < ODD_PRIMES.length && product * ODD_PRIMES[i] < Number.MAX_SAFE_INTEGER) {
      product *= ODD_PRIMES[i];
      primes.push(ODD_PRIMES[i++]);
    }
    groups.push({ product: BigInt(product), primes });
  }
  return groups;
})();

/**
 * Marks k in [0, BLOCK) where start + 2k has an odd prime factor below SIEVE_BOUND. `start` must be
 * odd and larger than SIEVE_BOUND (so no candidate is itself one of the small primes).
 */
export function sieveBlock(start: bigint): Uint8Array {
  const marked = new Uint8Array(BLOCK);
  for (const g of GROUPS) {
    const r = Number(start % g.product);
    for (const p of g.primes) {
      // start + 2k ≡ 0 (mod p)  ⇔  k ≡ −(start mod p) · 2⁻¹, and 2⁻¹ = (p + 1)/2 mod p.
      const k0 = (((p - (r % p)) % p) * ((p + 1) / 2)) % p;
      for (let k = k0; k < BLOCK; k += p) marked[k] = 1;
    }
  }
  return marked;
}

/**
 * A prime p = base + offset with offset odd, uniformly started below 2^offsetBits and searched
 * upwards, accepted after `rounds` Miller–Rabin rounds. base must be even, and the range must
 * reach well beyond SIEVE_BOUND (starts below it are drawn again: the sieve would strike the
 * small primes themselves).
 */
export function randomPrimeAbove(base: bigint, offsetBits: number, rounds: number): bigint {
  if (!Number.isSafeInteger(offsetBits) || offsetBits < 1 || base < 0n || (base & 1n) !== 0n || base + (1n << BigInt(offsetBits)) < BigInt(SIEVE_BOUND) << 8n) {
    throw new RangeError('randomPrimeAbove needs an even base and a range far beyond the sieve bound');
  }
  const len = Math.ceil(offsetBits / 8);
  const topMask = 0xff >> (len * 8 - offsetBits);
  const limit = base + (1n << BigInt(offsetBits));
  for (;;) {
    const b = pooledRandomBytes(len);
    b[0] &= topMask;
    b[len - 1] |= 1;
    const start = base + fromBytes(b);
    if (start <= SIEVE_BOUND) continue;
    // Only candidates inside the range (near its end a block is cut short).
    const room = (limit - start + 1n) / 2n;
    const end = room < BigInt(BLOCK) ? Number(room) : BLOCK;
    const marked = sieveBlock(start);
    for (let k = 0; k < end; k++) {
      if (marked[k]) continue;
      const candidate = start + 2n * BigInt(k);
      if (probablePrime(candidate, rounds)) return candidate;
    }
    // No prime in the block (about e^-10 of the time near 2^600): a new start.
  }
}
