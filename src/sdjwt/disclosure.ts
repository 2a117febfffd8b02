// Object-property disclosures and their digests (sdjwtvc-issuance.md §5.3, RFC 9901 §4.2).
import { createHash, randomBytes } from 'node:crypto';

/** The `_sd_alg` of every SD-JWT made here. */
export const SD_ALG = 'sha-256';
const SALT_BYTES = 16;

export interface Disclosure {
  /** base64url of the JSON array [salt, name, value], as it travels after the JWT. */
  encoded: string;
  /** base64url(SHA-256(encoded)), as listed in `_sd`. */
  digest: string;
}

export function disclosureDigest(encoded: string): string {
  return createHash('sha256').update(encoded, 'ascii').digest('base64url');
}

/** A disclosure of claim `name` with a fresh salt from the CSPRNG (or the one given, for vectors). */
export function makeDisclosure(name: string, value: unknown, salt = randomBytes(SALT_BYTES).toString('base64url')): Disclosure {
  const encoded = Buffer.from(JSON.stringify([salt, name, value]), 'utf8').toString('base64url');
  return { encoded, digest: disclosureDigest(encoded) };
}
