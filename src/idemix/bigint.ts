// Big-integer helpers shared by every Idemix module: byte conversions, randomness,
// modular arithmetic and the JSON wire encoding gabi uses for big integers.
import { checkPrimeSync } from 'node:crypto';
import { pooledRandomBytes } from './random-pool.js';
import { IdemixError } from './errors.js';

/** Minimal big-endian unsigned encoding; zero encodes as the empty array (as Go's big.Int.Bytes). */
export function toBytes(x: bigint): Buffer {
  if (x < 0n) throw new IdemixError('MALFORMED', 'negative integer cannot be encoded');
  if (x === 0n) return Buffer.alloc(0);
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}

/** Big-endian bytes padded on the left to `length` bytes. */
export function toFixedBytes(x: bigint, length: number): Buffer {
  const b = toBytes(x);
  if (b.length > length) throw new IdemixError('MALFORMED', `integer does not fit in ${length} bytes`);
  if (b.length === length) return b;
  return Buffer.concat([Buffer.alloc(length - b.length), b]);
}

export function fromBytes(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
}

export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x === 0n) return 0;
  // Hex, not binary: a quarter of the string to build.
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + 32 - Math.clz32(parseInt(hex[0], 16));
}

/** Uniform integer in [0, 2^bits), from the CSPRNG. */
export function randomBits(bits: number): bigint {
  if (bits <= 0) return 0n;
  const nbytes = Math.ceil(bits / 8);
  const buf = pooledRandomBytes(nbytes);
  const excess = nbytes * 8 - bits;
  buf[0] &= 0xff >> excess;
  return fromBytes(buf);
}

/** Uniform integer in [0, max) by rejection sampling. */
export function randomBelow(max: bigint): bigint {
  if (max <= 0n) throw new IdemixError('MALFORMED', 'randomBelow needs a positive bound');
  const bits = bitLength(max - 1n);
  for (;;) {
    const r = randomBits(bits);
    if (r < max) return r;
  }
}

/** Non-negative remainder. */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

export function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Modular inverse; throws a typed error when `a` is not invertible modulo `m`. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new IdemixError('MALFORMED', 'value is not invertible modulo n');
  return mod(oldS, m);
}

/**
 * Reference modular exponentiation in pure bigint (left-to-right, 4-bit window).
 * A negative exponent inverts the base first, as gabi does. Fast paths live in modexp.ts
 * and are cross-checked against this one in tests.
 */
export function modPowReference(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  if (exp < 0n) {
    base = modInverse(base, m);
    exp = -exp;
  }
  base = mod(base, m);
  if (exp === 0n) return 1n;
  const table: bigint[] = [1n, base];
  for (let i = 2; i < 16; i++) table.push((table[i - 1] * base) % m);
  const hex = exp.toString(16);
  let result = 1n;
  for (let i = 0; i < hex.length; i++) {
    if (i > 0) {
      result = (result * result) % m;
      result = (result * result) % m;
      result = (result * result) % m;
      result = (result * result) % m;
    }
    const d = parseInt(hex[i], 16);
    if (d) result = (result * table[d]) % m;
  }
  return result;
}

export function isProbablePrime(x: bigint, checks = 20): boolean {
  if (x < 2n) return false;
  return checkPrimeSync(x, { checks });
}

/** gabi's JSON encoding: a string of standard padded base64 of the minimal bytes; "" is zero. */
export function encodeB64(x: bigint): string {
  return toBytes(x).toString('base64');
}

/**
 * No value of the protocol comes near this (the largest, for 4096-bit keys, have some 5,000 bits);
 * anything longer is refused before it costs a decode.
 */
const MAX_B64_LENGTH = 8192;

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a JSON big integer: a padded standard-base64 string, or a non-negative base-10 JSON
 * number (Go's decoder accepts both). Anything else is a typed MALFORMED error.
 */
export function decodeB64(v: unknown, what = 'integer'): bigint {
  if (typeof v === 'string') {
    if (v.length > MAX_B64_LENGTH) throw new IdemixError('MALFORMED', `${what} is too large`);
    if (!B64.test(v)) throw new IdemixError('MALFORMED', `${what} is not valid base64`);
    return fromBytes(Buffer.from(v, 'base64'));
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'bigint' && v >= 0n) return v;
  throw new IdemixError('MALFORMED', `${what} must be a base64 string`);
}

/** Parses base-10 text as found in key XML files; rejects signs, blanks and junk. */
export function decodeDecimal(text: unknown, what = 'integer'): bigint {
  const s = typeof text === 'number' ? String(text) : typeof text === 'string' ? text.trim() : '';
  if (!/^[0-9]+$/.test(s)) throw new IdemixError('MALFORMED', `${what} is not a non-negative decimal integer`);
  return BigInt(s);
}
