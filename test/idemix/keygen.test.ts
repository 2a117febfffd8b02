import { describe, expect, it } from 'vitest';
import { gcd, isProbablePrime, modPowReference } from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { generateKeyPair } from '../../src/idemix/keygen.js';
import {
  checkKeyPair,
  parsePrivateKeyXml,
  parsePublicKeyXml,
  privateKeyToXml,
  publicKeyToXml,
} from '../../src/idemix/keys.js';

// Legendre symbol by Euler's criterion, from the reference exponentiation.
const legendre = (a: bigint, p: bigint) => modPowReference(a, (p - 1n) / 2n, p);

describe('generateKeyPair', () => {
  it('makes a 1024-bit key pair meeting gabi’s conditions that round-trips through XML', async () => {
    const messages: string[] = [];
    const { publicKey: pk, privateKey: sk } = await generateKeyPair({
      bits: 1024,
      numAttributes: 6,
      counter: 3,
      expiryDate: 1893456000,
      onProgress: (m) => messages.push(m),
    });
    expect(messages.length).toBeGreaterThan(0);

    expect(pk.n.toString(2).length).toBe(1024);
    expect(pk.params.Ln).toBe(1024);
    expect(pk.R.length).toBe(6);
    expect([pk.counter, pk.expiryDate, sk.counter, sk.expiryDate]).toEqual([3, 1893456000, 3, 1893456000]);
    checkKeyPair(pk, sk);

    for (const x of [sk.p, sk.q, sk.pPrime, sk.qPrime]) expect(isProbablePrime(x, 16)).toBe(true);
    expect(sk.pPrime % 8n).not.toBe(1n);
    expect(sk.qPrime % 8n).not.toBe(1n);
    expect(sk.p % 8n).not.toBe(sk.q % 8n);
    expect(sk.p.toString(2).length).toBe(512);

    // S is a quadratic residue mod both primes and generates QR_n (order p'q', not p' or q').
    expect(legendre(pk.S, sk.p)).toBe(1n);
    expect(legendre(pk.S, sk.q)).toBe(1n);
    expect(modPowReference(pk.S, sk.order, pk.n)).toBe(1n);
    expect(modPowReference(pk.S, sk.pPrime, pk.n)).not.toBe(1n);
    expect(modPowReference(pk.S, sk.qPrime, pk.n)).not.toBe(1n);
    // Z and every R_i are in ⟨S⟩ = QR_n: residues mod both primes, all distinct.
    for (const b of [pk.Z, ...pk.R]) {
      expect(b > 1n && b < pk.n && gcd(b, pk.n) === 1n).toBe(true);
      expect(legendre(b, sk.p)).toBe(1n);
      expect(legendre(b, sk.q)).toBe(1n);
    }
    expect(new Set([pk.S, pk.Z, ...pk.R].map(String)).size).toBe(8);
    expect(pk.G).toBeUndefined();

    const pk2 = parsePublicKeyXml(publicKeyToXml(pk));
    const sk2 = parsePrivateKeyXml(privateKeyToXml(sk));
    expect(pk2).toEqual(pk);
    expect(sk2).toEqual(sk);
    checkKeyPair(pk2, sk2);
  });

  it('rejects bad options with typed errors before doing any work', async () => {
    const base = { bits: 1024 as const, numAttributes: 6, counter: 0, expiryDate: 1 };
    const cases: Array<[object, string]> = [
      [{ bits: 1536 }, 'INVALID_KEY'],
      [{ numAttributes: 1 }, 'MALFORMED'],
      [{ numAttributes: 2.5 }, 'MALFORMED'],
      [{ counter: -1 }, 'MALFORMED'],
      [{ expiryDate: Number.NaN }, 'MALFORMED'],
    ];
    for (const [patch, code] of cases) {
      const err = await generateKeyPair({ ...base, ...patch } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdemixError);
      expect((err as IdemixError).code).toBe(code);
    }
  });
});
