// The metadata attribute (gabi index 1): a 24-byte record of version, signing date, validity,
// public-key counter and credential-type hash, read as one big-endian integer.
import { fromBytes, toBytes } from './bigint.js';
import { IdemixError } from './errors.js';
import { sha256 } from './hash.js';

export const METADATA_LENGTH = 24;
/** Dates in the metadata attribute are counted in weeks since the Unix epoch. */
export const WEEK_SECONDS = 604800;

export interface Metadata {
  version: number;
  /** Unix seconds, a multiple of WEEK_SECONDS. */
  signingDate: number;
  validityWeeks: number;
  /** Unix seconds: signingDate + validityWeeks weeks. */
  expiry: number;
  keyCounter: number;
  /** First 16 bytes of SHA-256 of the credential type identifier, lower-case hex. */
  credentialTypeHashHex: string;
}

export interface MetadataInput {
  credentialTypeId: string;
  keyCounter: number;
  /** Unix seconds of issuance; rounded down to a week. */
  issuedAt: number;
  /** Unix seconds until which the credential is valid; rounded down to whole weeks after signing. */
  validUntil: number;
  version?: number;
}

export function credentialTypeHashHex(credentialTypeId: string): string {
  return sha256(Buffer.from(credentialTypeId, 'utf8')).subarray(0, 16).toString('hex');
}

function checkUint(value: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new IdemixError('MALFORMED', `${what} out of range`);
  }
}

export function createMetadata(input: MetadataInput): bigint {
  const version = input.version ?? 3;
  checkUint(version, 0xff, 'metadata version');
  checkUint(input.keyCounter, 0xffff, 'key counter');
  checkUint(input.issuedAt, Number.MAX_SAFE_INTEGER, 'issuance time');
  const weeks = Math.floor(input.issuedAt / WEEK_SECONDS);
  checkUint(weeks, 0xffffff, 'signing date');
  const validity = Math.floor((input.validUntil - weeks * WEEK_SECONDS) / WEEK_SECONDS);
  if (!Number.isSafeInteger(validity) || validity < 0) {
    throw new IdemixError('MALFORMED', 'validity ends before the signing date');
  }
  checkUint(validity, 0xffff, 'validity');
  const b = Buffer.alloc(METADATA_LENGTH);
  b[0] = version;
  b.writeUIntBE(weeks, 1, 3);
  b.writeUInt16BE(validity, 4);
  b.writeUInt16BE(input.keyCounter, 6);
  sha256(Buffer.from(input.credentialTypeId, 'utf8')).copy(b, 8, 0, 16);
  return fromBytes(b);
}

export function parseMetadata(m: bigint): Metadata {
  if (m < 0n) throw new IdemixError('MALFORMED', 'metadata attribute is negative');
  const raw = toBytes(m);
  if (raw.length > METADATA_LENGTH) throw new IdemixError('MALFORMED', 'metadata attribute is too long');
  const b = Buffer.concat([Buffer.alloc(METADATA_LENGTH - raw.length), raw]);
  const signingDate = b.readUIntBE(1, 3) * WEEK_SECONDS;
  const validityWeeks = b.readUInt16BE(4);
  return {
    version: b[0],
    signingDate,
    validityWeeks,
    expiry: signingDate + validityWeeks * WEEK_SECONDS,
    keyCounter: b.readUInt16BE(6),
    credentialTypeHashHex: b.subarray(8, 24).toString('hex'),
  };
}
