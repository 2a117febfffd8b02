// Cheap rejection of composite candidates for the issuer's signature exponent e: trial division
// by the odd primes below 1000 through a few bigint remainders. A signature needs dozens of
// candidates, and each one this catches saves a call into OpenSSL's primality test.

const SMALL_PRIMES: number[] = [];
for (let p = 3; p < 1000; p += 2) if (SMALL_PRIMES.every((q) => p % q !== 0)) SMALL_PRIMES.push(p);

// Groups of primes whose product stays below 2^53, so one bigint remainder per group suffices.
const GROUPS: { product: bigint; primes: number[] }[] = [];
for (let i = 0; i < SMALL_PRIMES.length; ) {
  const primes: number[] = [];
  let product = 1;
  while (i < SMALL_PRIMES.length && product * SMALL_PRIMES[i] < Number.MAX_SAFE_INTEGER) {
    product *= SMALL_PRIMES[i];
    primes.push(SMALL_PRIMES[i++]);
  }
  GROUPS.push({ product: BigInt(product), primes });
}

/** True when an odd x > 1000 is divisible by an odd prime below 1000. */
export function hasSmallFactor(x: bigint): boolean {
  for (const g of GROUPS) {
    const r = Number(x % g.product);
    for (const p of g.primes) if (r % p === 0) return true;
  }
  return false;
}
