// Attribute values as integers: the string encodings of irmago (metadata versions 2 and 3),
// the exponent mapping gabi applies before an attribute enters any group computation, and the
// base62 rendering of random-blind attributes.
import { bitLength, fromBytes, toBytes } from './bigint.js';
import { IdemixError } from './errors.js';
import { sha256 } from './hash.js';

/** Metadata versions that change how string attributes are encoded. */
export type AttributeEncodingVersion = 2 | 3;

/**
 * Encodes a string attribute. Version 3 shifts the value left and sets the low bit so that
 * "absent" (0) differs from the empty string (1); version 2 has no way to say "absent".
 */
export function encodeAttribute(value: string | null, version: AttributeEncodingVersion = 3): bigint {
  if (version === 2) {
    if (value === null) throw new IdemixError('MALFORMED', 'version 2 attributes cannot be null');
    return fromBytes(Buffer.from(value, 'utf8'));
  }
  if (value === null) return 0n;
  return (fromBytes(Buffer.from(value, 'utf8')) << 1n) | 1n;
}

/** Inverse of encodeAttribute; version 3 even values are the null attribute. */
export function decodeAttribute(m: bigint, version: AttributeEncodingVersion = 3, opts: { strict?: boolean } = {}): string | null {
  if (m < 0n) throw new IdemixError('MALFORMED', 'attribute value is negative');
  if (version !== 2 && (m & 1n) === 0n) return null;
  const bytes = toBytes(version === 2 ? m : m >> 1n);
  if (!opts.strict) return bytes.toString('utf8');
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new IdemixError('INVALID_PROOF', 'attribute value is not valid UTF-8');
  }
}

/**
 * A verifier must not accept a value that is not text: replacing its bad bytes (as a lenient
 * decoder does) would let different signed values read as one.
 */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The value an attribute contributes as an exponent: itself when it fits in Lm bits, else the
 * SHA-256 of its bytes (gabi hashes on both the signing and the proving side, so long strings
 * stay provable while the wire keeps the raw value).
 */
export function attributeExponent(m: bigint, Lm: number): bigint {
  if (m < 0n) throw new IdemixError('MALFORMED', 'attribute value is negative');
  if (bitLength(m) <= Lm) return m;
  return fromBytes(sha256(toBytes(m)));
}

const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** How irmago shows a random-blind attribute: the integer in base 62 (digits, lower, upper). */
export function randomBlindDisplay(m: bigint): string {
  if (m < 0n) throw new IdemixError('MALFORMED', 'attribute value is negative');
  if (m === 0n) return '0';
  let out = '';
  for (let x = m; x > 0n; x /= 62n) out = BASE62[Number(x % 62n)] + out;
  return out;
}
