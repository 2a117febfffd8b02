// The holder's non-revocation witness (u, e) with u^e = ν: made by the issuer at issuance against
// the latest accumulator, and brought forward by the holder over later revocation events.
import { bitLength, modInverse } from '../idemix/bigint.js';
import type { PrivateKey, PublicKey } from '../idemix/keys.js';
import { modPow, powProduct } from '../idemix/modexp.js';
import { randomPrimeAbove } from '../idemix/prime-search.js';
import type { Accumulator, SignedAccumulator } from './accumulator.js';
import { openSignedAccumulator } from './accumulator.js';
import { RevocationError } from './errors.js';
import { verifyUpdate, type Update } from './update.js';

/** Bits of the random part of the revocation attribute e (gabi's AttributeSize). */
export const REVOCATION_ATTRIBUTE_BITS = 195;

export interface Witness {
  u: bigint;
  e: bigint;
  sacc: SignedAccumulator;
  /** Accumulator the witness is valid for, as opened from sacc. */
  accumulator: Accumulator;
}

/** e = 8 + off, prime, with off odd below 2^195: searched upwards from a random point, as the issuer's e. */
export function randomRevocationPrime(): bigint {
  return randomPrimeAbove(8n, REVOCATION_ATTRIBUTE_BITS, 20);
}

/** The issuer's witness for a fresh credential: u = ν^{1/e mod p'q'}. */
export function randomWitness(sk: PrivateKey, sacc: SignedAccumulator, acc: Accumulator): Witness {
  const e = randomRevocationPrime();
  const u = modPow(acc.nu, modInverse(e, sk.order), sk.n);
  return { u, e, sacc, accumulator: acc };
}

/** Holder-side check of a witness received at issuance: sacc signature and u^e = ν. */
export function verifyWitness(w: { u: bigint; e: bigint; sacc: SignedAccumulator }, pk: PublicKey): Accumulator {
  const acc = openSignedAccumulator(w.sacc, pk);
  if (w.u <= 0n || w.u >= pk.n || w.e <= 1n || bitLength(w.e) > REVOCATION_ATTRIBUTE_BITS + 1) {
    throw new RevocationError('MALFORMED', 'witness out of range');
  }
  if (modPow(w.u, w.e, pk.n) !== acc.nu) throw new RevocationError('SIGNATURE', 'witness does not match the accumulator');
  return acc;
}

function extendedGcd(a: bigint, b: bigint): { g: bigint; x: bigint; y: bigint } {
  let [oldR, r] = [a, b];
  let [oldS, s] = [1n, 0n];
  let [oldT, t] = [0n, 1n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
    [oldT, t] = [t, oldT - q * t];
  }
  return { g: oldR, x: oldS, y: oldT };
}

/**
 * Brings the witness up to the update's accumulator. Only events after the witness's index
 * are multiplied in (unlike gabi's chunked path, digest §13.2). Throws REVOKED when one of them
 * is this credential's e, UPDATE_TOO_NEW when events between are missing.
 */
export function updateWitness(w: Witness, update: Update, pk: PublicKey): Witness {
  const acc = verifyUpdate(update, (c) => (c === pk.counter ? pk : undefined));
  const i = w.accumulator.index;
  if (acc.index === i) {
    return acc.time > w.accumulator.time ? { ...w, sacc: update.sacc, accumulator: acc } : w;
  }
  if (update.events.length === 0 || acc.index < i) return w;
  if (update.events[0].index > i + 1) throw new RevocationError('UPDATE_TOO_NEW', 'update too new: events after the witness are missing');
  let product = 1n;
  for (const ev of update.events) if (ev.index > i) product *= ev.e;
  const { g, x: a, y: b } = extendedGcd(w.e, product);
  if (g !== 1n) throw new RevocationError('REVOKED', 'credential has been revoked');
  const u = powProduct(pk.n, [
    [w.u, b],
    [acc.nu, a],
  ]);
  if (modPow(u, w.e, pk.n) !== acc.nu) throw new RevocationError('SIGNATURE', 'updated witness does not match the accumulator');
  return { u, e: w.e, sacc: update.sacc, accumulator: acc };
}
