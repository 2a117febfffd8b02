// N_sig: the nonce an attribute-based signature's proofs are bound to, tying the session nonce,
// the signed message and (when present) the timestamp signature together.
import { fromBytes } from './bigint.js';
import { derInteger, derOctetString, derSequence, sha256 } from './hash.js';

export function signatureNonce(nonce: bigint, message: string, timestampSignature?: Uint8Array | null): bigint {
  const parts = [derInteger(nonce), derInteger(fromBytes(sha256(Buffer.from(message, 'utf8'))))];
  if (timestampSignature) parts.push(derOctetString(timestampSignature));
  return fromBytes(sha256(derSequence(parts)));
}
