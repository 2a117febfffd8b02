// Session secrets: tokens and pairing codes from the node:crypto CSPRNG, and their comparison.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { pooledRandomByte } from '../idemix/random-pool.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// Bytes at or above this bound are rejected: 248 = 4 * 62, so the remaining bytes map evenly
// onto the alphabet and no character is more likely than another.
const UNBIASED_BOUND = 256 - (256 % ALPHABET.length);

export const TOKEN_LENGTH = 20;
/** Characters the requestor and client token of one session share (the Redis cluster hash tag). */
export const SHARED_PREFIX_LENGTH = 4;
/** The route parameter check of the reference: unanchored, so it is a "contains" test. */
export const TOKEN_PATTERN = /[a-zA-Z0-9]{20}/;

export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = pooledRandomByte();
    if (byte >= UNBIASED_BOUND) continue;
    out += ALPHABET[byte % ALPHABET.length];
  }
  return out;
}

export interface SessionTokens {
  requestorToken: string;
  clientToken: string;
  frontendAuth: string;
}

/**
 * The requestor and client tokens share their first characters so a Redis cluster can keep
 * both keys of a session in one slot; the remaining 16 characters (95 bits) keep each
 * token unguessable from the other.
 */
export function newSessionTokens(frontendAuth?: string): SessionTokens {
  const shared = randomAlphanumeric(SHARED_PREFIX_LENGTH);
  const rest = TOKEN_LENGTH - SHARED_PREFIX_LENGTH;
  let clientToken = shared + randomAlphanumeric(rest);
  const requestorToken = shared + randomAlphanumeric(rest);
  // The two must differ; a collision on 95 random bits only happens in theory.
  while (clientToken === requestorToken) clientToken = shared + randomAlphanumeric(rest);
  return { requestorToken, clientToken, frontendAuth: frontendAuth ?? randomAlphanumeric(TOKEN_LENGTH) };
}

/** Four decimal digits, uniformly distributed. */
export function newPairingCode(): string {
  return randomInt(0, 10_000).toString().padStart(4, '0');
}

/** Compares two secrets in time independent of where they differ (hashing equalises lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
