// Camenisch–Lysyanskaya signatures (A, e, v) on a block of attributes:
// Z ≡ A^e · S^v · Π R_i^{m_i*} (mod n), and their randomisation for disclosure.
import { bitLength, isProbablePrime, randomBits } from './bigint.js';
import { attributeExponent } from './attributes.js';
import { IdemixError } from './errors.js';
import type { PublicKey } from './keys.js';
import { fastCoprime } from './modexp-inverse.js';
import { modPow, powProduct } from './modexp.js';
import type { CLSignature } from './proofs.js';
import type { SystemParameters } from './params.js';

/** gabi's admissible range for e: 2^{Le−1} ≤ e ≤ 2^{Le−1} + 2^{LePrime−1}. */
export function eInRange(e: bigint, params: SystemParameters): boolean {
  const low = 1n << BigInt(params.Le - 1);
  return e >= low && e <= low + (1n << BigInt(params.LePrime - 1));
}

/** Π_{i} R_i^{m_i*} for the given attribute exponents (index i uses base R_i). */
export function representTerms(pk: PublicKey, attributes: readonly bigint[]): [bigint, bigint][] {
  if (attributes.length > pk.R.length) {
    throw new IdemixError('MALFORMED', `${attributes.length} attributes but the key has ${pk.R.length} bases`);
  }
  const terms: [bigint, bigint][] = [];
  attributes.forEach((m, i) => {
    const x = attributeExponent(m, pk.params.Lm);
    if (x !== 0n) terms.push([pk.R[i], x]);
  });
  return terms;
}

/**
 * Checks a CL signature on `attributes` (gabi indices: secret key at 0, metadata at 1). Returns
 * false for any signature that does not verify; throws only for malformed input.
 */
export function verifyCLSignature(pk: PublicKey, sig: CLSignature, attributes: readonly bigint[]): boolean {
  const { n } = pk;
  // v = v'' + v' < 2^{Lv+1}; the bound also keeps hostile input from costing a huge exponentiation.
  if (sig.A <= 0n || sig.A >= n || sig.v < 0n || bitLength(sig.v) > pk.params.Lv + 1) return false;
  if (!eInRange(sig.e, pk.params) || !isProbablePrime(sig.e, 40)) return false;
  let lhs = powProduct(n, [[sig.A, sig.e], [pk.S, sig.v], ...representTerms(pk, attributes)]);
  if (sig.keyshareP !== null) lhs = (lhs * sig.keyshareP) % n;
  return lhs === pk.Z % n;
}

export interface RandomizedSignature {
  A: bigint;
  e: bigint;
  /** v − e·r: may be negative, which is fine because it only enters a response. */
  v: bigint;
}

/** A' = A·S^r, v' = v − e·r with r = rand(LRA): the same signature, unlinkable to A. */
export function randomizeSignature(pk: PublicKey, sig: CLSignature): RandomizedSignature {
  const r = randomBits(pk.params.LRA);
  return { A: (sig.A * modPow(pk.S, r, pk.n)) % pk.n, e: sig.e, v: sig.v - sig.e * r };
}

/** True when x is a usable group element: in [1, n) and sharing no factor with n. */
export function isGroupElement(x: bigint, n: bigint): boolean {
  return x > 0n && x < n && fastCoprime(x, n);
}
