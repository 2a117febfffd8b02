// Atum timestamps on attribute-based signatures: the message T a timestamp server signs (both
// the legacy v1 and the current v2 layout) and the Ed25519 check of its signature. Whether the
// signing key is trusted is for the caller to ask the scheme's timestamp server.
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { IdemixError } from './errors.js';
import { derInteger, derOctetString, derSequence, sha256 } from './hash.js';
import type { PublicKey } from './keys.js';
import { powProduct } from './modexp.js';
import type { IndexedValues } from './proofs.js';
import { representTerms } from './signature.js';

export interface TimestampMessageInput {
  /** The randomized A' of each proof, in proof order. */
  randomizedA: readonly bigint[];
  message: string;
  /** Disclosed raw values of each proof by gabi index; the metadata (1) must be among them. */
  disclosed: readonly IndexedValues[];
  /** 2 for SignedMessages with "@context", 1 for the legacy format. */
  version: 1 | 2;
  /** v2: each proof's public key (the disclosed values are represented over its bases). */
  publicKeys?: readonly PublicKey[];
  /** v1: number of attribute types of each proof's credential type. */
  attributeCounts?: readonly number[];
}

function disclosedList(d: IndexedValues, length: number): bigint[] {
  for (const i of d.keys()) {
    if (i >= length) throw new IdemixError('MALFORMED', `disclosed index ${i} beyond the credential's attributes`);
  }
  return Array.from({ length }, (_, i) => d.get(i) ?? 0n);
}

/** T = SHA-256(DER SEQUENCE { SEQUENCE OF A', OCTET STRING SHA-256(message), X }). */
export function timestampMessage(input: TimestampMessageInput): Buffer {
  const k = input.randomizedA.length;
  if (input.disclosed.length !== k) throw new IdemixError('MALFORMED', 'one disclosed set per proof needed');
  let x: Buffer;
  if (input.version === 2) {
    const pks = input.publicKeys;
    if (!pks || pks.length !== k) throw new IdemixError('MALFORMED', 'one public key per proof needed');
    x = derSequence(
      input.disclosed.map((d, j) => {
        if (!d.get(1)) throw new IdemixError('MALFORMED', `metadata attribute of proof ${j} not disclosed`);
        return derInteger(powProduct(pks[j].n, representTerms(pks[j], disclosedList(d, pks[j].R.length))));
      }),
    );
  } else {
    const counts = input.attributeCounts;
    if (!counts || counts.length !== k) throw new IdemixError('MALFORMED', 'one attribute count per proof needed');
    x = derSequence(input.disclosed.map((d, j) => derSequence(disclosedList(d, counts[j] + 2).map(derInteger))));
  }
  const der = derSequence([
    derSequence(input.randomizedA.map(derInteger)),
    derOctetString(sha256(Buffer.from(input.message, 'utf8'))),
    x,
  ]);
  return sha256(der);
}

export interface TimestampSignature {
  /** Unix seconds the timestamp server vouches for. */
  time: number;
  alg: string;
  data: Uint8Array;
  /** Raw 32-byte Ed25519 public key of the timestamp server. */
  publicKey: Uint8Array;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Ed25519 signature over uint64_BE(time) ‖ T. */
export function verifyTimestampSignature(ts: TimestampSignature, T: Uint8Array): boolean {
  if (ts.alg !== 'ed25519') return false;
  if (!Number.isSafeInteger(ts.time) || ts.time < 0) return false;
  if (ts.publicKey.length !== 32 || ts.data.length !== 64) return false;
  const signed = Buffer.alloc(8 + T.length);
  signed.writeBigUInt64BE(BigInt(ts.time), 0);
  Buffer.from(T).copy(signed, 8);
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, ts.publicKey]), format: 'der', type: 'spki' });
    return verifySignature(null, signed, key, ts.data);
  } catch {
    // A public key that is not a curve point cannot have signed anything.
    return false;
  }
}
