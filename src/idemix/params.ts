// Idemix system parameters (gabi's DefaultSystemParameters), selected by the bit length of n.
import { IdemixError } from './errors.js';

export interface SystemParameters {
  Ln: number;
  Lm: number;
  Lh: number;
  Lstatzk: number;
  LePrime: number;
  Le: number;
  LeCommit: number;
  LmCommit: number;
  LRA: number;
  LsCommit: number;
  Lv: number;
  LvCommit: number;
  LvPrime: number;
  LvPrimeCommit: number;
}

/** The user secret key is 255 bits for every key size (Lm − 1 of the 1024-bit set). */
export const SECRET_KEY_BITS = 255;
/** The secret-key randomizer shared across a proof list (LmCommit of the 1024-bit set). */
export const SHARED_RANDOMIZER_BITS = 592;
/** Session nonces and the client's issuance nonce n_2. */
export const NONCE_BITS = 128;

const BASE: Record<number, { Lm: number; Lh: number; Lstatzk: number; LePrime: number }> = {
  1024: { Lm: 256, Lh: 256, Lstatzk: 80, LePrime: 120 },
  2048: { Lm: 256, Lh: 256, Lstatzk: 128, LePrime: 120 },
  4096: { Lm: 512, Lh: 256, Lstatzk: 128, LePrime: 120 },
};

const cache = new Map<number, SystemParameters>();

function derive(Ln: number): SystemParameters {
  const { Lm, Lh, Lstatzk, LePrime } = BASE[Ln];
  const Lv = Ln + 2 * Lstatzk + Lh + Lm + 4;
  return Object.freeze({
    Ln,
    Lm,
    Lh,
    Lstatzk,
    LePrime,
    Le: Lstatzk + Lh + Lm + 5,
    LeCommit: LePrime + Lstatzk + Lh,
    LmCommit: Lm + Lstatzk + Lh,
    LRA: Ln + Lstatzk,
    LsCommit: Lm + Lstatzk + Lh + 1,
    Lv,
    LvCommit: Lv + Lstatzk + Lh,
    LvPrime: Ln + Lstatzk,
    LvPrimeCommit: Ln + 2 * Lstatzk + Lh,
  });
}

/** Parameters for a modulus of exactly `bits` bits; other sizes are not valid Idemix keys. */
export function systemParameters(bits: number): SystemParameters {
  if (!Object.prototype.hasOwnProperty.call(BASE, bits)) {
    throw new IdemixError('INVALID_KEY', `unsupported modulus size ${bits} (need 1024, 2048 or 4096)`);
  }
  let p = cache.get(bits);
  if (!p) {
    p = derive(bits);
    cache.set(bits, p);
  }
  return p;
}
