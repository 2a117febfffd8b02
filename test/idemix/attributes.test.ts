import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attributeExponent, decodeAttribute, encodeAttribute, randomBlindDisplay } from '../../src/idemix/attributes.js';
import { IdemixError } from '../../src/idemix/errors.js';

describe('attribute encoding (spec §3.2)', () => {
  it('matches the spec examples', () => {
    expect(encodeAttribute('456', 2)).toBe(0x343536n);
    expect(encodeAttribute('456')).toBe(6842989n);
    expect(encodeAttribute('')).toBe(1n);
    expect(encodeAttribute(null)).toBe(0n);
  });
  it('round-trips UTF-8, empty and null values', () => {
    for (const v of ['', 'Alice', 'Ünïcödé ✓', 'x'.repeat(100), null]) expect(decodeAttribute(encodeAttribute(v))).toBe(v);
    expect(decodeAttribute(encodeAttribute('héllo', 2), 2)).toBe('héllo');
  });
  it('has no null in version 2 and rejects negative values', () => {
    expect(() => encodeAttribute(null, 2)).toThrow(IdemixError);
    expect(() => decodeAttribute(-1n)).toThrow(IdemixError);
    expect(() => attributeExponent(-5n, 256)).toThrow(IdemixError);
  });
});

describe('attribute exponent mapping (spec §0)', () => {
  it('keeps values of at most Lm bits and hashes longer ones', () => {
    const max = (1n << 256n) - 1n;
    expect(attributeExponent(max, 256)).toBe(max);
    const long = 1n << 256n;
    const h = BigInt('0x' + createHash('sha256').update(Buffer.from('01' + '00'.repeat(32), 'hex')).digest('hex'));
    expect(attributeExponent(long, 256)).toBe(h);
    expect(attributeExponent(long, 512)).toBe(long);
    // After the shift, 33 bytes always exceed 256 bits; 32 bytes only when the first byte is ≥ 0x80.
    expect(attributeExponent(encodeAttribute('a'.repeat(33)), 256)).not.toBe(encodeAttribute('a'.repeat(33)));
    expect(attributeExponent(encodeAttribute('é' + 'a'.repeat(30)), 256)).not.toBe(encodeAttribute('é' + 'a'.repeat(30)));
    expect(attributeExponent(encodeAttribute('a'.repeat(32)), 256)).toBe(encodeAttribute('a'.repeat(32)));
    expect(attributeExponent(encodeAttribute('a'.repeat(31)), 256)).toBe(encodeAttribute('a'.repeat(31)));
  });
});

describe('random-blind display', () => {
  it('is base62 with digits, lower then upper case', () => {
    expect(randomBlindDisplay(0n)).toBe('0');
    expect(randomBlindDisplay(61n)).toBe('Z');
    expect(randomBlindDisplay(62n)).toBe('10');
    expect(randomBlindDisplay(36n)).toBe('A');
    expect(randomBlindDisplay(10n)).toBe('a');
  });
});
