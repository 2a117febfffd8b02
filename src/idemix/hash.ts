// The challenge hash of gabi (HashCommit): SHA-256 over a DER SEQUENCE of INTEGERs, plus the
// minimal DER encoders the rest of the Idemix layer needs to hash other structures byte-exactly.
import { createHash } from 'node:crypto';
import { fromBytes, toBytes } from './bigint.js';
import { IdemixError } from './errors.js';

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function derLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

/** DER INTEGER of a non-negative value: minimal two's complement, so a set top bit gets a 00 prefix. */
export function derInteger(x: bigint): Buffer {
  if (x < 0n) throw new IdemixError('MALFORMED', 'negative integer in hash input');
  let content = toBytes(x);
  if (content.length === 0 || content[0] & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return tlv(0x02, content);
}

export function derSequence(parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

export function derOctetString(b: Uint8Array): Buffer {
  return tlv(0x04, b);
}

export function derBoolean(v: boolean): Buffer {
  return Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);
}

/**
 * gabi's HashCommit: SHA-256(DER SEQUENCE { [BOOLEAN TRUE if sig], INTEGER count, INTEGER x_i… })
 * read as an unsigned big-endian integer.
 */
export function hashCommit(values: readonly bigint[], sig: boolean): bigint {
  const parts: Buffer[] = [];
  if (sig) parts.push(derBoolean(true));
  parts.push(derInteger(BigInt(values.length)));
  for (const v of values) parts.push(derInteger(v));
  return fromBytes(sha256(derSequence(parts)));
}
