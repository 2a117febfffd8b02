// The 16-byte credential type hash that a metadata attribute carries (spec §3.4).
import { sha256 } from '../idemix/hash.js';

/** First 16 bytes of SHA-256 of the UTF-8 identifier, lower-case hex. */
export function credentialTypeHash(credentialTypeId: string): string {
  return sha256(Buffer.from(credentialTypeId, 'utf8')).subarray(0, 16).toString('hex');
}
