import { describe, expect, it } from 'vitest';
import { IdemixError } from '../../src/idemix/errors.js';
import {
  derBoolean,
  derInteger,
  derOctetString,
  derSequence,
  hashCommit,
  sha256,
} from '../../src/idemix/hash.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const big = (h: string) => BigInt('0x' + h);

describe('DER encoders', () => {
  it('encodes INTEGERs minimally with a 00 prefix for a set top bit', () => {
    expect(hex(derInteger(0n))).toBe('020100');
    expect(hex(derInteger(1n))).toBe('020101');
    expect(hex(derInteger(127n))).toBe('02017f');
    expect(hex(derInteger(128n))).toBe('02020080');
    expect(hex(derInteger(255n))).toBe('020200ff');
    expect(hex(derInteger(256n))).toBe('02020100');
    expect(hex(derInteger(65535n))).toBe('020300ffff');
  });

  it('uses long-form lengths from 128 content bytes on', () => {
    // A 1024-bit value with the top bit set: 129 content bytes, length 81 81.
    const x = (1n << 1023n) + 5n;
    const d = derInteger(x);
    expect(hex(d.subarray(0, 4))).toBe('02818100');
    expect(d.length).toBe(3 + 129);
    // 127 content bytes still fit the short form; 128 do not.
    expect(hex(derOctetString(new Uint8Array(127)).subarray(0, 2))).toBe('047f');
    expect(hex(derOctetString(new Uint8Array(128)).subarray(0, 3))).toBe('048180');
    expect(hex(derOctetString(new Uint8Array(255)).subarray(0, 3))).toBe('0481ff');
    expect(hex(derOctetString(new Uint8Array(256)).subarray(0, 4))).toBe('04820100');
    expect(hex(derOctetString(new Uint8Array(70000)).subarray(0, 5))).toBe('0483011170');
    const seq = derSequence([derInteger(x), derInteger(x)]);
    expect(hex(seq.subarray(0, 4))).toBe('30820108');
  });

  it('encodes BOOLEAN, OCTET STRING and SEQUENCE', () => {
    expect(hex(derBoolean(true))).toBe('0101ff');
    expect(hex(derBoolean(false))).toBe('010100');
    expect(hex(derOctetString(Buffer.from('abc')))).toBe('0403616263');
    expect(hex(derSequence([]))).toBe('3000');
  });

  it('refuses negative integers with a typed error', () => {
    expect(() => derInteger(-1n)).toThrow(IdemixError);
  });
});

describe('hashCommit (spec §8.2 worked examples)', () => {
  const cases: Array<[bigint[], boolean, string, string]> = [
    [[1n, 2n, 3n], false, '300c020103020101020102020103', 'a171de68ff8bc2f9e377c6699a97c89557382c57cc2d6345a06dbeaa954c180b'],
    [[1n, 2n, 3n], true, '300f0101ff020103020101020102020103', '4bb0e416c6ce5b4b0a5652016b504f1655dac5de1292b7a4d699f13195213159'],
    [[0n, 128n, 65535n], false, '300f02010302010002020080020300ffff', 'b072ce6c4789b6a2089030ecd8283ae874ab943a10fb04703153441d131d770a'],
    [[1n, 2n, 3n, 42n], false, '300f02010402010102010202010302012a', '7b2ebb082f0e683a174bde363ebfc4980835ad7e6b19189a58521e9a7960b71b'],
  ];
  for (const [values, sig, der, digest] of cases) {
    it(`H(${values.join(',')}; ${sig})`, () => {
      expect(hex(sha256(Buffer.from(der, 'hex')))).toBe(digest);
      expect(hashCommit(values, sig)).toBe(big(digest));
    });
  }

  it('binds the signature flag and the count', () => {
    expect(hashCommit([1n, 2n], false)).not.toBe(hashCommit([1n, 2n], true));
    expect(hashCommit([1n, 2n], false)).not.toBe(hashCommit([1n, 2n, 0n], false));
  });

  it('reproduces the signature-nonce example of spec §8.3', () => {
    const msgHash = sha256(Buffer.from('I owe you everything', 'utf8'));
    const der = derSequence([derInteger(42n), derInteger(BigInt('0x' + msgHash.toString('hex')))]);
    expect(hex(der)).toBe('302602012a022100cb5998e637384782a04ff83d95ca1533b7e46dca501b2972196450cecb5e2b7d');
    expect(hex(sha256(der))).toBe('8578e5b1b584beaa7d40a3336a4d945d3e40092e373d8fab148f9beaa6892b47');
  });
});
