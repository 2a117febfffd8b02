// Issuer key-pair generation (gabi's GenerateKeyPair without the revocation parts): a modulus
// of two safe primes, a random quadratic residue S generating QR_n, and Z, R_i as powers of S.
import { generatePrime } from 'node:crypto';
import { bitLength, gcd, randomBelow, randomBits } from './bigint.js';
import { IdemixError } from './errors.js';
import type { PrivateKey, PublicKey } from './keys.js';
import { modPowCrt, registerFixedBases } from './modexp.js';
import { systemParameters } from './params.js';

export interface KeyGenOptions {
  bits: 1024 | 2048 | 4096;
  /** Number of R bases; at least #attribute types + 2 of the credential types it will sign. */
  numAttributes: number;
  counter: number;
  expiryDate: number;
  onProgress?: (msg: string) => void;
}

// After this many draws something is wrong with the prime source, not with luck.
const MAX_ATTEMPTS = 64;

function safePrime(bits: number, add: bigint, rem: bigint): Promise<bigint> {
  return new Promise((resolve, reject) => {
    generatePrime(bits, { safe: true, bigint: true, add, rem }, (err, prime) => {
      if (err) reject(new IdemixError('INVALID_KEY', `safe prime generation failed: ${err.message}`));
      else resolve(prime as bigint);
    });
  });
}

/**
 * A safe prime p of `bits` bits with p ≡ rem (mod add) and p ≥ √2·2^{bits−1}, so that the product
 * of two such primes has exactly 2·bits bits whatever the other one is. Each prime is redrawn
 * on its own until it qualifies, instead of redrawing both when their product falls short.
 */
async function qualifyingSafePrime(bits: number, add: bigint, rem: bigint, progress: (m: string) => void): Promise<bigint> {
  const lowest = 1n << BigInt(2 * bits - 1);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const p = await safePrime(bits, add, rem);
    if (p % add === rem && p * p >= lowest && bitLength(p) === bits) return p;
    progress(`safe prime too small, drawing another (attempt ${attempt + 1})`);
  }
  throw new IdemixError('INVALID_KEY', 'could not find a suitable safe prime');
}

/** gabi's conditions on the primes, plus the exact modulus length. */
function primesAcceptable(p: bigint, q: bigint, Ln: number): boolean {
  const pp = (p - 1n) / 2n;
  const qq = (q - 1n) / 2n;
  return pp % 8n !== 1n && qq % 8n !== 1n && p % 8n !== q % 8n && p !== q && bitLength(p * q) === Ln;
}

function validateOptions(opts: KeyGenOptions): void {
  const intIn = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
  if (!intIn(opts.numAttributes, 2)) throw new IdemixError('MALFORMED', 'numAttributes must be an integer ≥ 2');
  if (!intIn(opts.counter, 0)) throw new IdemixError('MALFORMED', 'counter must be a non-negative integer');
  if (!intIn(opts.expiryDate, 0)) throw new IdemixError('MALFORMED', 'expiryDate must be non-negative Unix seconds');
}

/** An exponent x = rand(Ln/2) with x > 2, as gabi draws them for Z and the R_i. */
function baseExponent(Ln: number): bigint {
  for (;;) {
    const x = randomBits(Ln / 2);
    if (x > 2n) return x;
  }
}

export async function generateKeyPair(
  opts: KeyGenOptions,
): Promise<{ publicKey: PublicKey; privateKey: PrivateKey }> {
  const params = systemParameters(opts.bits);
  validateOptions(opts);
  const Ln = params.Ln;
  const progress = opts.onProgress ?? (() => {});

  progress(`generating two ${Ln / 2}-bit safe primes`);
  // p ≡ 11 (mod 16) gives p' ≡ 5 (mod 8); q ≡ 7 (mod 8) gives q' ≡ 3 or 7 (mod 8): gabi's
  // conditions p' mod 8 ≠ 1, q' mod 8 ≠ 1 and p mod 8 (3) ≠ q mod 8 (7) hold by construction.
  const [p, q] = await Promise.all([
    qualifyingSafePrime(Ln / 2, 16n, 11n, progress),
    qualifyingSafePrime(Ln / 2, 8n, 7n, progress),
  ]);
  if (!primesAcceptable(p, q, Ln)) throw new IdemixError('INVALID_KEY', 'generated primes violate the key conditions');
  const n = p * q;
  const pPrime = (p - 1n) / 2n;
  const qPrime = (q - 1n) / 2n;
  const primes = { p, q };

  progress('choosing S');
  // S = r² is a quadratic residue; requiring S^{p'} ≠ 1 and S^{q'} ≠ 1 makes it a generator of
  // QR_n (order p'q'), so every Z and R_i lies in the group S generates.
  let S: bigint;
  for (;;) {
    const r = randomBelow(n);
    if (r < 2n || gcd(r, n) !== 1n) continue;
    S = (r * r) % n;
    if (S !== 1n && modPowCrt(S, pPrime, primes) !== 1n && modPowCrt(S, qPrime, primes) !== 1n) break;
  }

  progress(`computing Z and ${opts.numAttributes} bases`);
  const Z = modPowCrt(S, baseExponent(Ln), primes);
  const R: bigint[] = [];
  for (let i = 0; i < opts.numAttributes; i++) R.push(modPowCrt(S, baseExponent(Ln), primes));

  const publicKey: PublicKey = { counter: opts.counter, expiryDate: opts.expiryDate, n, Z, S, R, params };
  const privateKey: PrivateKey = {
    counter: opts.counter,
    expiryDate: opts.expiryDate,
    p,
    q,
    pPrime,
    qPrime,
    n,
    order: pPrime * qPrime,
  };
  registerFixedBases(n, [S, Z, ...R]);
  return { publicKey, privateKey };
}
