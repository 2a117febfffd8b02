// The one place modular exponentiation happens. Every proof computation goes through modPow /
// powProduct; the strategy behind them was chosen by measurement (bench/modexp.bench.ts):
//  - with the native addon (native/, optional): the whole product in one call, all terms
//    sharing one chain of squarings, the public keys' bases (S, Z, R_i and the cached inverses)
//    through fixed-base tables;
//  - without it: OpenSSL Montgomery exponentiation (via node:crypto DH) per term, several times
//    faster per operation than bigint multiply-and-reduce at these sizes;
//  - all negative-exponent terms of a product share one inversion, and registered bases keep
//    their inverse, so Z^{−c} costs no inversion at all;
//  - a fast Lehmer inversion; the pure Straus path only for moduli OpenSSL will not take.
// Nothing here knows an issuer's factors except modPowCrt, which takes them as an argument and
// serves only the issuer's own signing: results modulo n never depend on who holds which key,
// and values from clients are never reduced modulo a secret prime.
import { bitLength, isProbablePrime, mod, modPowReference } from './bigint.js';
import { IdemixError } from './errors.js';
import { fastModInverse } from './modexp-inverse.js';
import { millerRabin, NativeModulus } from './modexp-native.js';
import { OpenSslModulus } from './modexp-openssl.js';
import { multiExpPure } from './modexp-pure.js';
import { nativeBinding } from './native/binding.js';

let nativeOn = nativeBinding !== null;

/** Whether products run through the native addon (built, and not disabled by IRMA_NATIVE=0). */
export function nativeAcceleration(): boolean {
  return nativeOn;
}

/**
 * Switches between the native and the node:crypto path at run time (tests and benchmarks
 * compare the two); returns whether the native path is now in use, false without the addon.
 */
export function setNativeAcceleration(on: boolean): boolean {
  nativeOn = on && nativeBinding !== null;
  return nativeOn;
}

class ModulusContext {
  private ossl: OpenSslModulus | undefined;
  private nat: NativeModulus | null | undefined;
  /** Registered long-lived bases → their inverse once first needed. */
  readonly fixed = new Map<bigint, bigint | undefined>();
  /** Registered bases and their computed inverses: the ones worth a fixed-base table. */
  readonly tabled = new Set<bigint>();
  readonly bits: number;

  constructor(readonly n: bigint) {
    this.bits = bitLength(n);
  }

  get openssl(): OpenSslModulus {
    // Built on first use, not at registration: creating it costs about one exponentiation.
    this.ossl ??= new OpenSslModulus(this.n, this.bits);
    return this.ossl;
  }

  get native(): NativeModulus | null {
    if (!nativeOn) return null;
    if (this.nat === undefined) this.nat = NativeModulus.create(this.n, this.bits);
    return this.nat;
  }

  inverse(b: bigint): bigint {
    if (!this.fixed.has(b)) return fastModInverse(b, this.n);
    let inv = this.fixed.get(b);
    if (inv === undefined) {
      inv = fastModInverse(b, this.n);
      this.fixed.set(b, inv);
      this.tabled.add(inv);
    }
    return inv;
  }
}

// Registered moduli (public keys) stay for the life of the process; others are kept in a small
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

/** base^exp mod n for exp > 0 and reduced base, one exponentiation through node:crypto. */
function powPositive(ctx: ModulusContext, base: bigint, exp: bigint): bigint {
  const n = ctx.n;
  if (base <= 1n) return base;
  if (base === n - 1n) return exp & 1n ? base : 1n;
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
  const nat = ctx.native;
  // A single power of a variable base gains nothing from the addon; one of a key's bases does.
  if (nat !== null && ctx.tabled.has(base) && bitLength(exp) <= nat.maxTableBits) return nat.product([[base, exp]], []);
  return powPositive(ctx, base, exp);
}

/**
 * Probable primality with `rounds` Miller–Rabin rounds: on the native path by our own rounds on
 * its Montgomery arithmetic (several times faster), else node:crypto's checkPrimeSync. Only for
 * public values.
 */
export function probablePrime(x: bigint, rounds: number): boolean {
  return (nativeOn ? millerRabin(x, rounds) : undefined) ?? isProbablePrime(x, rounds);
}

/** a^{−1} mod n (Lehmer; cached for registered bases); typed MALFORMED error if there is none. */
export function invert(a: bigint, n: bigint): bigint {
  checkModulus(n);
  return context(n).inverse(a);
}

/**
 * True when a product modulo n shares one chain of squarings between its terms (native path),
 * so that spreading an exponent over more terms costs little; false when every term is an
 * exponentiation of its own, where gathering terms under one exponent first pays.
 */
export function sharesSquarings(n: bigint): boolean {
  return n > 1n && context(n).native !== null;
}

function addTerm(into: Map<bigint, bigint>, base: bigint, exp: bigint): void {
  into.set(base, (into.get(base) ?? 0n) + exp);
}

function product(ctx: ModulusContext, terms: Map<bigint, bigint>): bigint {
  const n = ctx.n;
  if (!ctx.openssl.usable) return multiExpPure(n, [...terms]);
  let r = 1n;
  for (const [b, e] of terms) {
    r = (r * (e === 1n ? b : powPositive(ctx, b, e))) % n;
    if (r === 0n) return 0n;
  }
  return r;
}

/** Far beyond any Idemix product (tens of terms, exponents of a few thousand bits). */
const NATIVE_MAX_TERMS = 256;
const NATIVE_MAX_EXP_BITS = 1 << 14;

/** Whether the addon takes this product; anything larger goes the node:crypto way. */
function fitsNative(terms: ReadonlyArray<readonly [bigint, bigint]>): boolean {
  if (terms.length > NATIVE_MAX_TERMS) return false;
  for (const [, e] of terms) if (bitLength(e) > NATIVE_MAX_EXP_BITS) return false;
  return true;
}

function nativeProduct(ctx: ModulusContext, nat: NativeModulus, terms: ReadonlyArray<readonly [bigint, bigint]>): bigint {
  const n = ctx.n;
  const tabled: [bigint, bigint][] = [];
  const variable: [bigint, bigint][] = [];
  for (const [b, e] of terms) {
    if (e === 0n) continue;
    // Negative powers of a variable base (U^{−c} of a ProofU) each take an inversion here;
    // a product has at most one or two of them.
    const [base, exp] = e > 0n ? [mod(b, n), e] : [ctx.inverse(b), -e];
    (ctx.tabled.has(base) && bitLength(exp) <= nat.maxTableBits ? tabled : variable).push([base, exp]);
  }
  return nat.product(tabled, variable);
}

/**
 * Π base_i^exp_i mod n. Exponents may be negative or zero; terms with the same base and sign are
 * merged, and all negative terms share a single inversion at the end.
 */
export function powProduct(n: bigint, terms: ReadonlyArray<readonly [bigint, bigint]>): bigint {
  checkModulus(n);
  if (n === 1n) return 0n;
  const ctx = context(n);
  const nat = ctx.native;
  if (nat !== null && fitsNative(terms)) return nativeProduct(ctx, nat, terms);
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
 * contexts for the life of the process, each base's inverse is computed once, and with the
 * native addon the bases (and those inverses) get fixed-base tables on first use.
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
  for (const b of bases) {
    if (b > 0n && b < n && !ctx.fixed.has(b)) {
      ctx.fixed.set(b, undefined);
      ctx.tabled.add(b);
    }
  }
}

// ---- The issuer's own exponentiations: the only code that sees p and q. ----

interface CrtKey {
  q: bigint;
  qInv: bigint;
  pCtx: ModulusContext;
  qCtx: ModulusContext;
}

// Issuer private keys are few and long-lived; the bound only stops unbounded growth. The prime
// contexts live here, never in the registry above, so no product modulo n can reach them.
const crtKeys = new Map<bigint, CrtKey>();
const CRT_LIMIT = 64;
let crtCalls = 0;

function crtKey(p: bigint, q: bigint): CrtKey {
  let k = crtKeys.get(p);
  if (k === undefined || k.q !== q) {
    k = { q, qInv: fastModInverse(q, p), pCtx: new ModulusContext(p), qCtx: new ModulusContext(q) };
    if (crtKeys.size >= CRT_LIMIT) crtKeys.clear();
    crtKeys.set(p, k);
  }
  return k;
}

/** base^exp mod a prime, exp > 0, through OpenSSL's constant-time exponentiation (DH path). */
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

/**
 * base^exp mod p·q from the two primes (the issuer's private key): two half-size
 * exponentiations with exponents reduced mod p−1 and q−1, joined by Garner's formula.
 * About 3–4× faster than modPow with n for full-length exponents. The reductions modulo p and q
 * leak timing about `base`: callers pass only values of their own making or blinded ones
 * (issuer.ts), never a client's value as it came.
 */
export function modPowCrt(base: bigint, exp: bigint, key: { readonly p: bigint; readonly q: bigint }): bigint {
  const { p, q } = key;
  if (p <= 2n || q <= 2n || p === q || !(p & q & 1n)) {
    throw new IdemixError('INVALID_KEY', 'CRT needs two distinct odd primes');
  }
  crtCalls++;
  const k = crtKey(p, q);
  if (exp < 0n) {
    base = fastModInverse(base, p * q);
    exp = -exp;
  }
  if (exp === 0n) return 1n;
  return crtCombine(k, powPrime(k.pCtx, base, exp), powPrime(k.qCtx, base, exp));
}

/** How many exponentiations have used a private key so far (tests: verification uses none). */
export function privateKeyOperations(): number {
  return crtCalls;
}

