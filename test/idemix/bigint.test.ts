import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bitLength,
  decodeB64,
  decodeDecimal,
  encodeB64,
  fromBytes,
  gcd,
  isProbablePrime,
  mod,
  modInverse,
  modPowReference,
  randomBelow,
  randomBits,
  toBytes,
  toFixedBytes,
} from '../../src/idemix/bigint.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { parsePrivateKeyXml } from '../../src/idemix/keys.js';
import { REFERENCE_SCHEMES } from '../support/reference.js';

function expectMalformed(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IdemixError);
  expect((err as IdemixError).code).toBe('MALFORMED');
}

describe('byte conversions', () => {
  it('uses the minimal big-endian encoding, zero as empty', () => {
    expect(toBytes(0n).length).toBe(0);
    expect(toBytes(1n).toString('hex')).toBe('01');
    expect(toBytes(256n).toString('hex')).toBe('0100');
    expect(toBytes(0xabcdefn).toString('hex')).toBe('abcdef');
    expect(fromBytes(new Uint8Array())).toBe(0n);
    expect(fromBytes(Buffer.from('000102', 'hex'))).toBe(258n);
    // A view into a larger buffer must read only its own bytes.
    const big = Buffer.from('ff0102ff', 'hex');
    expect(fromBytes(big.subarray(1, 3))).toBe(258n);
    expectMalformed(() => toBytes(-1n));
  });

  it('pads on the left to a fixed length and refuses overflow', () => {
    expect(toFixedBytes(1n, 4).toString('hex')).toBe('00000001');
    expect(toFixedBytes(0n, 2).toString('hex')).toBe('0000');
    expect(toFixedBytes(0x1234n, 2).toString('hex')).toBe('1234');
    expectMalformed(() => toFixedBytes(0x10000n, 2));
  });

  it('round-trips random values', () => {
    for (let i = 0; i < 50; i++) {
      const x = randomBits(1 + i * 40);
      expect(fromBytes(toBytes(x))).toBe(x);
    }
  });

  it('measures bit length like Go (|0| = 0, sign ignored)', () => {
    expect([0n, 1n, 2n, 255n, 256n, -256n].map(bitLength)).toEqual([0, 1, 2, 8, 9, 9]);
    expect(bitLength(1n << 4095n)).toBe(4096);
  });
});

describe('randomness', () => {
  it('randomBits stays below 2^bits and uses the top bit', () => {
    let top = 0;
    for (let i = 0; i < 200; i++) {
      const x = randomBits(13);
      expect(x >= 0n && x < 1n << 13n).toBe(true);
      if (x >> 12n) top++;
    }
    expect(top).toBeGreaterThan(50);
    expect(randomBits(0)).toBe(0n);
  });

  it('randomBelow stays in [0, max) and rejects a non-positive bound', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 300; i++) {
      const x = randomBelow(5n);
      expect(x >= 0n && x < 5n).toBe(true);
      seen.add(x);
    }
    expect(seen.size).toBe(5);
    expectMalformed(() => randomBelow(0n));
  });
});

describe('modular arithmetic', () => {
  const sk = parsePrivateKeyXml(
    readFileSync(join(REFERENCE_SCHEMES, 'irma-demo/MijnOverheid/PrivateKeys/2.xml'), 'utf8'),
  );

  it('mod is non-negative, gcd ignores signs', () => {
    expect(mod(-7n, 5n)).toBe(3n);
    expect(mod(7n, 5n)).toBe(2n);
    expect(gcd(-12n, 18n)).toBe(6n);
    expect(gcd(sk.p, sk.q)).toBe(1n);
    expect(gcd(sk.p * 6n, sk.p * 4n)).toBe(sk.p * 2n);
  });

  it('modInverse inverts and refuses non-units', () => {
    const n = sk.p * sk.q;
    const a = randomBelow(n);
    expect((a * modInverse(a, n)) % n).toBe(1n);
    expect(modInverse(-3n, 7n)).toBe(2n);
    expectMalformed(() => modInverse(sk.p, n));
    expectMalformed(() => modInverse(0n, 7n));
  });

  it('modPowReference satisfies Fermat and Euler on the reference primes', () => {
    for (let i = 0; i < 3; i++) {
      const a = randomBelow(sk.p - 2n) + 2n;
      expect(modPowReference(a, sk.p - 1n, sk.p)).toBe(1n);
      // The QR subgroup of Z_n^* has order p'q'.
      const n = sk.p * sk.q;
      const s = (a * a) % n;
      expect(modPowReference(s, sk.pPrime * sk.qPrime, n)).toBe(1n);
    }
    expect(modPowReference(3n, 200n, 1000003n)).toBe(naivePow(3n, 200n, 1000003n));
    expect(modPowReference(2n, -1n, 7n)).toBe(4n);
    expect(modPowReference(5n, 0n, 7n)).toBe(1n);
    expect(modPowReference(5n, 3n, 1n)).toBe(0n);
  });

  it('isProbablePrime tells the reference primes from their products', () => {
    expect(isProbablePrime(sk.p)).toBe(true);
    expect(isProbablePrime(sk.pPrime)).toBe(true);
    expect(isProbablePrime(sk.p * sk.q)).toBe(false);
    expect([0n, 1n, 2n, 3n, 4n, 561n].map((x) => isProbablePrime(x))).toEqual([false, false, true, true, false, false]);
  });
});

function naivePow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  for (let i = 0n; i < e; i++) r = (r * b) % m;
  return r;
}

describe('JSON wire encoding (spec §0.1)', () => {
  it('encodes as padded standard base64 of the minimal bytes, zero as ""', () => {
    expect(encodeB64(1n)).toBe('AQ==');
    expect(encodeB64(42n)).toBe('Kg==');
    expect(encodeB64(1337n)).toBe('BTk=');
    expect(encodeB64(0n)).toBe('');
    expectMalformed(() => encodeB64(-1n));
  });

  it('decodes base64 strings and non-negative JSON numbers, as Go does', () => {
    const x = 8931748931759284679376938475395713602744853768923750102n;
    expect(decodeB64(encodeB64(x))).toBe(x);
    expect(decodeB64('AQ==')).toBe(1n);
    expect(decodeB64('')).toBe(0n);
    expect(decodeB64(42)).toBe(42n);
    expect(decodeB64('+/8=')).toBe(0xfbffn);
  });

  it('rejects unpadded, url-safe, negative and non-integer input with MALFORMED', () => {
    for (const bad of ['AQ', 'AQ=', '-_8=', 'A Q==', -1, 1.5, null, {}, [], true, Number.MAX_SAFE_INTEGER + 2]) {
      expectMalformed(() => decodeB64(bad));
    }
  });

  it('decodes decimal key text strictly', () => {
    expect(decodeDecimal(' 123\n')).toBe(123n);
    expect(decodeDecimal('0')).toBe(0n);
    for (const bad of ['', '-1', '+1', '1e5', '0x10', '1 2', undefined]) expectMalformed(() => decodeDecimal(bad));
  });
});
