import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePrimeSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeB64, gcd, modInverse, modPowReference, randomBits, randomBelow } from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { hashCommit } from '../../src/idemix/hash.js';
import { parsePrivateKeyXml, parsePublicKeyXml, type PublicKey } from '../../src/idemix/keys.js';
import { fastCoprime, fastModInverse } from '../../src/idemix/modexp-inverse.js';
import {
  invert,
  modPow,
  modPowCrt,
  nativeAcceleration,
  powProduct,
  privateKeyOperations,
  registerFixedBases,
  setNativeAcceleration,
} from '../../src/idemix/modexp.js';
import { REFERENCE_SCHEMES, REFERENCE_VECTORS } from '../support/reference.js';

const readKey = (rel: string) => readFileSync(join(REFERENCE_SCHEMES, rel), 'utf8');
const pk1024 = parsePublicKeyXml(readKey('irma-demo/MijnOverheid/PublicKeys/2.xml'));
const pk2048 = parsePublicKeyXml(readKey('irma-demo/stemmen/PublicKeys/0.xml'));
const sk1024 = parsePrivateKeyXml(readKey('irma-demo/MijnOverheid/PrivateKeys/2.xml'));
const sk2048 = parsePrivateKeyXml(readKey('irma-demo/stemmen/PrivateKeys/0.xml'));
// No private key exists for RU; holding one (MijnOverheid, stemmen) must change nothing modulo n.
const pkPublicOnly = parsePublicKeyXml(readKey('irma-demo/RU/PublicKeys/2.xml'));

const randomOdd = (bits: number) => randomBits(bits) | 1n | (1n << BigInt(bits - 1));
function randomUnit(n: bigint): bigint {
  for (;;) {
    const b = randomBelow(n);
    if (gcd(b, n) === 1n) return b;
  }
}

function expectCode(f: () => unknown, code: string): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IdemixError);
  expect((err as IdemixError).code).toBe(code);
}

/** Moduli covering the OpenSSL path (key moduli, random odd, a 512-bit prime) and the pure fallback. */
const moduli: Array<[string, bigint]> = [
  ['1024-bit key modulus (private key parsed)', pk1024.n],
  ['2048-bit key modulus (private key parsed)', pk2048.n],
  ['1024-bit key modulus (public key only)', pkPublicOnly.n],
  ['random odd 1024-bit', randomOdd(1024)],
  ['512-bit prime', generatePrimeSync(512, { bigint: true }) as bigint],
  ['511-bit odd (pure fallback)', randomOdd(511)],
  ['even 1024-bit (pure fallback)', randomOdd(1024) - 1n],
  ['tiny prime 101', 101n],
];

// Both paths must give identical results: the native addon when it is built (unless
// IRMA_NATIVE=0), and node:crypto alone.
const paths = nativeAcceleration() ? (['native', 'node:crypto'] as const) : (['node:crypto'] as const);

for (const path of paths) {
  describe(`${path} path`, () => {
    beforeAll(() => {
      setNativeAcceleration(path === 'native');
    });
    afterAll(() => {
      setNativeAcceleration(true);
    });

    describe('modPow', () => {
      for (const [label, n] of moduli) {
        it(`agrees with modPowReference: ${label}`, () => {
          const bits = n.toString(2).length;
          const bases = [0n, 1n, 2n, n - 1n, n - 2n, n, n + 1n, n + 5n, 3n * n + 7n, -3n, randomBelow(n), randomBelow(n)];
          const exps = [0n, 1n, 2n, 3n, 255n, 1n << 596n, randomBits(bits), randomBits(2036), randomBits(256)];
          for (const b of bases) {
            for (const e of exps) {
              expect(modPow(b, e, n)).toBe(modPowReference(b, e, n));
            }
          }
        });
  
        it(`handles negative exponents like gabi (invert first): ${label}`, () => {
          for (let i = 0; i < 6; i++) {
            const b = randomBelow(n);
            let inv: bigint;
            try {
              inv = modInverse(b, n);
            } catch {
              continue;
            }
            const e = randomBits(300 + i * 100);
            expect(modPow(b, -e, n)).toBe(modPowReference(inv, e, n));
            expect(modPow(b, -e, n)).toBe(modPowReference(b, -e, n));
          }
          expect(modPow(n - 1n, -3n, n)).toBe(n === 2n ? 1n : (n - 1n) % n);
        });
      }
  
      it('raises a typed error for a base without inverse and for a non-positive modulus', () => {
        const n = pk1024.n;
        expectCode(() => modPow(0n, -1n, n), 'MALFORMED');
        expectCode(() => modPow(sk1024.p, -5n, n), 'MALFORMED');
        expectCode(() => modPow(2n, 3n, 0n), 'MALFORMED');
        expectCode(() => modPow(2n, 3n, -7n), 'MALFORMED');
        expect(modPow(5n, 3n, 1n)).toBe(0n);
      });
    });
  
    describe('powProduct', () => {
      const naive = (n: bigint, terms: Array<[bigint, bigint]>) =>
        terms.reduce((acc, [b, e]) => (acc * modPowReference(b, e, n)) % n, 1n % n);
  
      for (const [label, n] of moduli.filter(([, n]) => n > 1000n && n % 2n === 1n)) {
        it(`agrees with a product of reference powers: ${label}`, () => {
          const bits = n.toString(2).length;
          for (let round = 0; round < 4; round++) {
            const b = [randomBelow(n), randomUnit(n), randomBelow(n) + n, randomBelow(n)];
            const terms: Array<[bigint, bigint]> = [
              [b[0], randomBits(2036)],
              [b[1], -randomBits(256)],
              [b[2], randomBits(593)],
              [b[0], randomBits(457)], // same base twice, merged
              [b[3], 0n],
              [b[1], -randomBits(100)], // same base, negative twice
              [b[3], randomBits(bits)],
            ];
            expect(powProduct(n, terms)).toBe(naive(n, terms));
          }
          expect(powProduct(n, [])).toBe(1n);
          expect(powProduct(n, [[0n, 5n], [7n, 3n]])).toBe(0n);
        });
      }
  
      it('uses registered bases with negative exponents without changing results', () => {
        const n = pk1024.n;
        const c = randomBits(256);
        const terms: Array<[bigint, bigint]> = [
          [pk1024.Z, -c],
          [pk1024.S, randomBits(2036)],
          [pk1024.R[3], randomBits(593)],
          [pk1024.R[1], -randomBits(256)],
          [randomBelow(n), -c],
        ];
        expect(powProduct(n, terms)).toBe(naive(n, terms));
        // Twice, so the second run uses the inverses cached by the first.
        expect(powProduct(n, terms)).toBe(naive(n, terms));
      });
  
      it('stays correct across more one-off moduli than its context cache holds', () => {
        const ns = Array.from({ length: 20 }, () => randomOdd(600));
        for (let round = 0; round < 2; round++) {
          for (const n of ns) {
            const b = randomBelow(n);
            const e = randomBits(300);
            expect(powProduct(n, [[b, e], [3n, 5n]])).toBe((modPowReference(b, e, n) * 243n) % n);
          }
        }
      });
  
      it('raises a typed error when a negative-exponent base has no inverse', () => {
        expectCode(() => powProduct(pk1024.n, [[pk1024.S, 5n], [sk1024.q * 3n, -2n]]), 'MALFORMED');
        expectCode(() => powProduct(0n, [[2n, 1n]]), 'MALFORMED');
      });
  
      it('registerFixedBases accepts any modulus and ignores bases outside (0, n)', () => {
        let n = randomOdd(1024);
        while (n % 5n === 0n) n += 2n;
        registerFixedBases(n, [0n, n, n + 3n, 5n]);
        expect(powProduct(n, [[5n, -3n], [n + 3n, 2n]])).toBe(naive(n, [[5n, -3n], [n + 3n, 2n]]));
        expectCode(() => registerFixedBases(0n, [1n]), 'MALFORMED');
      });
    });
  });
}

describe('modPowCrt', () => {
  for (const [label, sk] of [['1024', sk1024], ['2048', sk2048]] as const) {
    it(`equals modPow mod n for the ${label}-bit reference private key`, () => {
      const n = sk.n;
      const bases = [0n, 1n, n - 1n, sk.p, sk.q * 2n, randomBelow(n), randomBelow(n) + n];
      const exps = [0n, 1n, sk.p - 1n, randomBits(Number(label)), randomBits(600), -randomBits(256)];
      for (const b of bases) {
        for (const e of exps) {
          if (e < 0n && (b % sk.p === 0n || b % sk.q === 0n)) {
            expectCode(() => modPowCrt(b, e, sk), 'MALFORMED');
            continue;
          }
          expect(modPowCrt(b, e, sk)).toBe(modPowReference(b, e, n));
        }
      }
    });
  }

  it('rejects keys that are not two distinct odd primes', () => {
    expectCode(() => modPowCrt(3n, 5n, { p: sk1024.p, q: sk1024.p }), 'INVALID_KEY');
    expectCode(() => modPowCrt(3n, 5n, { p: 2n, q: sk1024.p }), 'INVALID_KEY');
  });
});

describe('private keys', () => {
  it('are never used by modPow or powProduct modulo their n', () => {
    const before = privateKeyOperations();
    const terms: Array<[bigint, bigint]> = [
      [randomBelow(pk1024.n), randomBits(2036)],
      [randomUnit(pk1024.n), -randomBits(256)],
      [pk1024.S, randomBits(1024)],
    ];
    expect(powProduct(pk1024.n, terms)).toBe(terms.reduce((acc, [b, e]) => (acc * modPowReference(b, e, pk1024.n)) % pk1024.n, 1n));
    expect(modPow(terms[0][0], terms[0][1], pk1024.n)).toBe(modPowReference(terms[0][0], terms[0][1], pk1024.n));
    expect(privateKeyOperations()).toBe(before);
    modPowCrt(terms[0][0], terms[0][1], sk1024);
    expect(privateKeyOperations()).toBe(before + 1);
  });
});

describe('invert', () => {
  it('inverts registered and unregistered values alike, with typed errors for non-units', () => {
    for (const x of [pk1024.S, pk1024.R[4], randomUnit(pk1024.n), pk1024.S + pk1024.n]) {
      expect(invert(x, pk1024.n)).toBe(modInverse(x, pk1024.n));
      expect(invert(x, pk1024.n)).toBe(modInverse(x, pk1024.n));
    }
    expect(invert(3n, sk1024.order)).toBe(modInverse(3n, sk1024.order));
    expectCode(() => invert(sk1024.p, pk1024.n), 'MALFORMED');
    expectCode(() => invert(0n, pk1024.n), 'MALFORMED');
    expectCode(() => invert(3n, 0n), 'MALFORMED');
  });
});

describe('fastModInverse', () => {
  it('agrees with the plain extended Euclid at 64 to 4096 bits', () => {
    for (const bits of [64, 65, 100, 512, 1024, 2048, 4096]) {
      const m = randomOdd(bits);
      for (let i = 0; i < 20; i++) {
        const a = randomBits(bits + 8);
        let expected: bigint | undefined;
        try {
          expected = modInverse(a, m);
        } catch {
          expectCode(() => fastModInverse(a, m), 'MALFORMED');
          continue;
        }
        expect(fastModInverse(a, m)).toBe(expected);
      }
    }
    expect(fastModInverse(1n, 1n << 200n)).toBe(1n);
    expectCode(() => fastModInverse(1n << 100n, 1n << 200n), 'MALFORMED');
  });
});

describe('fastCoprime', () => {
  it('agrees with gcd = 1, on units, multiples of a factor of an RSA-like n, 0 and values beyond n', () => {
    const [p, q] = [generatePrimeSync(512, { bigint: true }), generatePrimeSync(512, { bigint: true })] as bigint[];
    const n = p * q;
    const xs = [0n, 1n, 2n, n - 1n, n, n + 1n, 2n * n, p, q * 3n, (n - 1n) * p];
    for (let i = 0; i < 100; i++) xs.push(randomBits(1023), randomBits(400) * (i % 2 ? p : q));
    for (const bits of [64, 100, 2048]) {
      const m = randomOdd(bits);
      for (let i = 0; i < 30; i++) xs.push(randomBits(bits + 8));
      for (const x of xs.slice(-30)) expect(fastCoprime(x, m), `${x} mod ${bits}-bit m`).toBe(gcd(x, m) === 1n);
    }
    for (const x of xs) expect(fastCoprime(x, n), String(x)).toBe(gcd(x, n) === 1n);
  });
});

/**
 * End-to-end evidence on data made by irmago: every recorded issuance commitment's ProofU must
 * reproduce its challenge, Ũ = U^{−c}·S^{v̂'}·R_0^{ŝ}·Π R_k^{m̂_k}, c = H(context, U, Ũ, nonce).
 */
describe('recorded ProofUs (irmago client) verify through powProduct + hashCommit', () => {
  interface Recorded {
    sessions: Array<{
      label: string;
      client: Array<{ path: string; responseBody?: any; requestBody?: any }>;
    }>;
  }
  const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as Recorded;
  const keys: Record<string, PublicKey> = {
    'irma-demo.MijnOverheid': pk1024,
    'irma-demo.stemmen': pk2048,
  };
  const cases = vectors.sessions.filter(
    (s) => s.client.some((c) => c.path.endsWith('/commitments')) && s.client[0].responseBody.request.disclose === undefined,
  );

  it('has 1024- and 2048-bit cases', () => {
    expect(cases.map((s) => s.label)).toEqual(expect.arrayContaining(['issue-fullName', 'issue-stempas-2048']));
  });

  for (const s of cases) {
    it(s.label, () => {
      const request = s.client[0].responseBody.request;
      const body = s.client.find((c) => c.path.endsWith('/commitments'))!.requestBody;
      const context = decodeB64(request.context);
      const nonce = decodeB64(request.nonce);
      request.credentials.forEach((cred: { credential: string }, i: number) => {
        const pk = keys[cred.credential.split('.').slice(0, 2).join('.')];
        const proof = body.combinedProofs[i];
        const U = decodeB64(proof.U);
        const c = decodeB64(proof.c);
        const terms: Array<[bigint, bigint]> = [
          [U, -c],
          [pk.S, decodeB64(proof.v_prime_response)],
          [pk.R[0], decodeB64(proof.s_response)],
        ];
        for (const [k, v] of Object.entries(proof.m_user_responses ?? {})) terms.push([pk.R[Number(k)], decodeB64(v)]);
        const Utilde = powProduct(pk.n, terms);
        expect(hashCommit([context, U, Utilde, nonce], false)).toBe(c);
        // The same through the reference exponentiation, independent of CRT and OpenSSL.
        const naive = terms.reduce((acc, [b, e]) => (acc * modPowReference(b, e, pk.n)) % pk.n, 1n);
        expect(naive).toBe(Utilde);
        // A changed response must break it.
        terms[1] = [pk.S, decodeB64(proof.v_prime_response) + 1n];
        expect(hashCommit([context, U, powProduct(pk.n, terms), nonce], false)).not.toBe(c);
      });
    });
  }
});
