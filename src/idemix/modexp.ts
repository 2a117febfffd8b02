// The one place modular exponentiation happens. Every proof computation goes through modPow /
// powProduct; the strategy behind them was chosen by measurement (bench/modexp.bench.ts):
//  - OpenSSL Montgomery exponentiation (via node:crypto DH) per term: several times faster per
//    operation than bigint multiply-and-reduce, which is why pure-bigint multi-exponentiation
//    loses to one OpenSSL call per term at these sizes;
//  - all negative-exponent terms of a product share one inversion, and registered bases (the
//    issuer key's S, Z, R_i) keep their inverse, so Z^{−c} costs no inversion at all;
//  - moduli whose factorization this process holds (issuer private keys) go through CRT;
//  - a fast Lehmer inversion; the pure Straus path only for moduli OpenSSL will not take.
import { bitLength, isProbablePrime, mod, modPowReference } from './bigint.js';
import { IdemixError } from './errors.js';
import { fastModInverse } from './modexp-inverse.js';
import { OpenSslModulus } from './modexp-openssl.js';
import { multiExpPure } from './modexp-pure.js';

class ModulusContext {
  private ossl: OpenSslModulus | undefined;
  /** Set when the factorization of n is known (an issuer's own key): powers go through CRT. */
  crt: CrtKey | undefined;
  /** Registered long-lived bases → their inverse once first needed. */
  readonly fixed = new Map<bigint, bigint | undefined>();
  readonly bits: number;

  constructor(readonly n: bigint) {
    this.bits = bitLength(n);
  }

  get openssl(): OpenSslModulus {
    // Built on first use, not at registration: creating it costs about one exponentiation.
    this.ossl ??= new OpenSslModulus(this.n, this.bits);
    return this.ossl;
  }

  inverse(b: bigint): bigint {
    if (!this.fixed.has(b)) return fastModInverse(b, this.n);
    let inv = this.fixed.get(b);
    if (inv === undefined) {
      inv = fastModInverse(b, this.n);
      this.fixed.set(b, inv);
    }
    return inv;
  }
}

// Registered moduli (issuer keys) stay for the life of the process; others are kept in a small
// LRU so a stream of one-off moduli cannot grow memory.
const registered = new Map<bigint, ModulusContext>();
const transient = new Map<bigint, ModulusContext>();
const TRANSIENT_LIMIT = 16;
let last: ModulusContext | undefined;

function context(n: bigint): ModulusContext {
  if (last !== undefined && last.n === n) return last;
  let ctx = registered.get(n);
  if (ctx === undefined) {
    ctx = transient.get(n);
    if (ctx === undefined) {
      ctx = new ModulusContext(n);
      if (transient.size >= TRANSIENT_LIMIT) transient.delete(transient.keys().next().value as bigint);
    } else {
      transient.delete(n);
    }
    transient.set(n, ctx);
  }
  last = ctx;
  return ctx;
}

function checkModulus(n: bigint): void {
  if (n <= 0n) throw new IdemixError('MALFORMED', 'modulus must be positive');
}

/** base^exp mod n for exp > 0 and reduced base. */
function powPositive(ctx: ModulusContext, base: bigint, exp: bigint): bigint {
  const n = ctx.n;
  if (base <= 1n) return base;
  if (base === n - 1n) return exp & 1n ? base : 1n;
  if (ctx.crt) return crtCombine(ctx.crt, powPrime(ctx.crt.pCtx, base, exp), powPrime(ctx.crt.qCtx, base, exp));
  return ctx.openssl.pow(base, exp) ?? modPowReference(base, exp, n);
}

/** base^exp mod n; a negative exponent inverts the base first (typed error if it has no inverse). */
export function modPow(base: bigint, exp: bigint, n: bigint): bigint {
  checkModulus(n);
  if (n === 1n) return 0n;
  const ctx = context(n);
  if (exp < 0n) {
    base = ctx.inverse(base);
    exp = -exp;
  } else {
    base = mod(base, n);
  }
  if (exp === 0n) return 1n;
  return powPositive(ctx, base, exp);
}

/** a^{−1} mod n (Lehmer; cached for registered bases); typed MALFORMED error if there is none. */
export function invert(a: bigint, n: bigint): bigint {
  checkModulus(n);
  return context(n).inverse(a);
}

function addTerm(into: Map<bigint, bigint>, base: bigint, exp: bigint): void {
  into.set(base, (into.get(base) ?? 0n) + exp);
}

function product(ctx: ModulusContext, terms: Map<bigint, bigint>): bigint {
  const n = ctx.n;
  if (ctx.crt) {
    // Both halves are accumulated separately and joined once.
    const { pCtx, qCtx } = ctx.crt;
    let rp = 1n;
    let rq = 1n;
    for (const [b, e] of terms) {
      rp = (rp * powPrime(pCtx, b, e)) % pCtx.n;
      rq = (rq * powPrime(qCtx, b, e)) % qCtx.n;
    }
    return crtCombine(ctx.crt, rp, rq);
  }
  if (!ctx.openssl.usable) return multiExpPure(n, [...terms]);
  let r = 1n;
  for (const [b, e] of terms) {
    r = (r * powPositive(ctx, b, e)) % n;
    if (r === 0n) return 0n;
  }
  return r;
}

/**
 * Π base_i^exp_i mod n. Exponents may be negative or zero; terms with the same base and sign are
 * merged, and all negative terms share a single inversion at the end.
 */
export function powProduct(n: bigint, terms: ReadonlyArray<readonly [bigint, bigint]>): bigint {
  checkModulus(n);
  if (n === 1n) return 0n;
  const ctx = context(n);
  const pos = new Map<bigint, bigint>();
  const neg = new Map<bigint, bigint>();
  for (const [b, e] of terms) {
    if (e === 0n) continue;
    if (e > 0n) addTerm(pos, mod(b, n), e);
    else if (ctx.fixed.has(b)) addTerm(pos, ctx.inverse(b), -e);
    else addTerm(neg, mod(b, n), -e);
  }
  const p = product(ctx, pos);
  if (neg.size === 0) return p;
  return (p * fastModInverse(product(ctx, neg), n)) % n;
}

/**
 * Declares long-lived bases of modulus n (a public key's S, Z, R_i): the modulus keeps its
 * OpenSSL context for the life of the process and each base's inverse is computed once.
 * Cheap: nothing is computed until first use.
 */
export function registerFixedBases(n: bigint, bases: readonly bigint[]): void {
  checkModulus(n);
  let ctx = registered.get(n);
  if (ctx === undefined) {
    ctx = transient.get(n) ?? new ModulusContext(n);
    transient.delete(n);
    registered.set(n, ctx);
  }
  for (const b of bases) if (b > 0n && b < n && !ctx.fixed.has(b)) ctx.fixed.set(b, undefined);
}

interface CrtKey {
  q: bigint;
  qInv: bigint;
  pCtx: ModulusContext;
  qCtx: ModulusContext;
}

// Issuer private keys are few and long-lived; the bound only stops unbounded growth.
const crtKeys = new Map<bigint, CrtKey>();
const CRT_LIMIT = 64;

function crtKey(p: bigint, q: bigint): CrtKey {
  let k = crtKeys.get(p);
  if (k === undefined || k.q !== q) {
    k = { q, qInv: fastModInverse(q, p), pCtx: new ModulusContext(p), qCtx: new ModulusContext(q) };
    if (crtKeys.size >= CRT_LIMIT) crtKeys.clear();
    crtKeys.set(p, k);
  }
  return k;
}

/** base^exp mod a prime, exp > 0. */
function powPrime(ctx: ModulusContext, base: bigint, exp: bigint): bigint {
  const prime = ctx.n;
  const b = mod(base, prime);
  // Fermat's reduction of the exponent only holds for bases coprime to the prime.
  if (b === 0n) return 0n;
  const e = exp % (prime - 1n);
  return e === 0n ? 1n : powPositive(ctx, b, e);
}

/** Garner: the x mod p·q with x ≡ rp (mod p), x ≡ rq (mod q). */
function crtCombine(k: CrtKey, rp: bigint, rq: bigint): bigint {
  return rq + k.q * mod((rp - rq) * k.qInv, k.pCtx.n);
}

function distinctOddPrimes(p: bigint, q: bigint): boolean {
  return p > 2n && q > 2n && p !== q && (p & q & 1n) === 1n && isProbablePrime(p) && isProbablePrime(q);
}

/**
 * base^exp mod p·q from the two primes (the issuer's private key): two half-size
 * exponentiations with exponents reduced mod p−1 and q−1, joined by Garner's formula.
 * About 3–4× faster than modPow with n for full-length exponents.
 */
export function modPowCrt(base: bigint, exp: bigint, key: { readonly p: bigint; readonly q: bigint }): bigint {
  const { p, q } = key;
  if (p <= 2n || q <= 2n || p === q || !(p & q & 1n)) {
    throw new IdemixError('INVALID_KEY', 'CRT needs two distinct odd primes');
  }
  const k = crtKey(p, q);
  if (exp < 0n) {
    base = fastModInverse(base, p * q);
    exp = -exp;
  }
  if (exp === 0n) return 1n;
  return crtCombine(k, powPrime(k.pCtx, base, exp), powPrime(k.qCtx, base, exp));
}

/**
 * Declares the factorization of n = p·q (an issuer private key this process holds), so every
 * modPow / powProduct modulo n — also verification of proofs under that key — runs as two
 * half-size exponentiations. Results are identical; only speed changes. Returns false, and
 * registers nothing, unless p and q are distinct odd probable primes.
 */
export function registerFactorization(p: bigint, q: bigint): boolean {
  const n = p * q;
  if (registered.get(n)?.crt) return true;
  if (!distinctOddPrimes(p, q)) return false;
  registerFixedBases(n, []);
  registered.get(n)!.crt = crtKey(p, q);
  return true;
}
