// CBOR as the reference's Go encoder writes it: definite lengths, shortest integer heads, and map
// keys in the order given (Go emits struct fields in declaration order, never sorted). Decoding
// keeps maps as Map so integer keys (key counters) survive and field names stay case-exact.
import { decode, encode } from 'cborg';

const keepOrder = (): number => 0;

export function encodeCbor(value: unknown): Uint8Array {
  return encode(value, { mapSorter: keepOrder });
}

/** Strict decode (no trailing bytes, no indefinite lengths); maps come back as Map. */
export function decodeCbor(bytes: Uint8Array): unknown {
  return decode(bytes, { useMaps: true, allowIndefinite: false, allowUndefined: false, rejectDuplicateMapKeys: true });
}

export class CborShapeError extends Error {}

export function asMap(v: unknown, what: string): Map<unknown, unknown> {
  if (!(v instanceof Map)) throw new CborShapeError(`${what}: expected a CBOR map`);
  return v;
}

export function getBytes(m: Map<unknown, unknown>, key: string, what: string): Uint8Array {
  const v = m.get(key);
  if (!(v instanceof Uint8Array)) throw new CborShapeError(`${what}.${key}: expected a byte string`);
  return v;
}

export function getUint(m: Map<unknown, unknown>, key: string, what: string, optional = false): number {
  const v = m.get(key);
  if (v === undefined && optional) return 0;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw new CborShapeError(`${what}.${key}: expected an unsigned integer below 2^53`);
}

/** int64 fields that hold Unix nanoseconds exceed 2^53: cborg yields a bigint for those. */
export function getInt64(m: Map<unknown, unknown>, key: string, what: string, optional = false): bigint {
  const v = m.get(key);
  if (v === undefined && optional) return 0n;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'bigint' && v >= -(1n << 63n) && v < 1n << 63n) return v;
  throw new CborShapeError(`${what}.${key}: expected a 64-bit integer`);
}

export function getText(m: Map<unknown, unknown>, key: string, what: string): string {
  const v = m.get(key);
  if (typeof v !== 'string') throw new CborShapeError(`${what}.${key}: expected a text string`);
  return v;
}

/** A Go int64 as CBOR wants it: a plain number when it fits, else a bigint (cborg writes both minimally). */
export function int64Value(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}
