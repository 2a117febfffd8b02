// Modular exponentiation through OpenSSL's Montgomery code, reached via node:crypto's
// Diffie-Hellman object: with modulus n, setPrivateKey(e) + computeSecret(b) yields b^e mod n.
// OpenSSL treats the exponent as a private key, so it runs in constant time as a bonus.
import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import { fromBytes, toBytes } from './bigint.js';

// Below 512 bits OpenSSL refuses the group and computeSecret silently yields zeros; above
// OPENSSL_DH_MAX_MODULUS_BITS it throws. Even moduli are rejected outright.
const MIN_BITS = 512;
const MAX_BITS = 10000;

/**
 * One OpenSSL context per modulus. Creating it costs about one exponentiation of its own
 * (OpenSSL checks the group), so contexts are cached by the caller.
 */
export class OpenSslModulus {
  private readonly dh: DiffieHellman | null;
  private readonly nMinus1: bigint;

  constructor(readonly n: bigint, bits: number) {
    this.nMinus1 = n - 1n;
    this.dh = n & 1n && bits >= MIN_BITS && bits <= MAX_BITS ? tryCreate(n) : null;
  }

  get usable(): boolean {
    return this.dh !== null;
  }

  /**
   * base^exp mod n for 1 < base < n−1 (already reduced) and exp > 0; null when OpenSSL cannot
   * do it, so the caller falls back to the pure path. OpenSSL's public-key range check rejects
   * the bases 0, 1 and n−1, which the caller handles itself.
   */
  pow(base: bigint, exp: bigint): bigint | null {
    if (this.dh === null || base <= 1n || base >= this.nMinus1 || exp <= 0n) return null;
    try {
      this.dh.setPrivateKey(toBytes(exp));
      const r = fromBytes(this.dh.computeSecret(toBytes(base)));
      // A zero result is impossible for these inputs and is how an OpenSSL refusal shows.
      return r === 0n ? null : r;
    } catch {
      return null;
    }
  }
}

function tryCreate(n: bigint): DiffieHellman | null {
  try {
    return createDiffieHellman(toBytes(n));
  } catch {
    return null;
  }
}
