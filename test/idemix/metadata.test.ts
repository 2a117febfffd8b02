import { describe, expect, it } from 'vitest';
import { IdemixError } from '../../src/idemix/errors.js';
import { createMetadata, credentialTypeHashHex, parseMetadata } from '../../src/idemix/metadata.js';

describe('metadata attribute (spec §3.4)', () => {
  it('hashes credential type ids as in the spec', () => {
    expect(credentialTypeHashHex('irma-demo.RU.studentCard')).toBe('d6cb6a94f69de5e7697d2d4d6b553e0c');
    expect(credentialTypeHashHex('irma-demo.MijnOverheid.root')).toBe('08b8e700330162515cb86393ed9d3146');
  });
  it('reproduces the legacy metadata of TestMetadataCompatibility byte for byte', () => {
    const m = createMetadata({
      version: 2,
      credentialTypeId: 'irma-demo.RU.studentCard',
      keyCounter: 2,
      issuedAt: 1499904000 + 3600,
      validUntil: 1516233600 + 100,
    });
    expect(m.toString(16).padStart(48, '0')).toBe('020009b0001b0002d6cb6a94f69de5e7697d2d4d6b553e0c');
    expect(m).toBe(49043481832371145193140299771658227036446546573739245068n);
  });
  it('parses the metadata of irmago TestVerify (v3, key 2)', () => {
    const m = BigInt('0x03000a3902010002d6cb6a94f69de5e7697d2d4d6b553e0c');
    const p = parseMetadata(m);
    expect(p.version).toBe(3);
    expect(p.signingDate).toBe(0x0a39 * 604800);
    expect(p.validityWeeks).toBe(0x0201);
    expect(p.keyCounter).toBe(2);
  });
  it('round-trips and rounds to whole weeks', () => {
    const now = 1795335240;
    const m = parseMetadata(
      createMetadata({ credentialTypeId: 'irma-demo.MijnOverheid.fullName', keyCounter: 7, issuedAt: now, validUntil: now + 182 * 86400 }),
    );
    expect(m.version).toBe(3);
    expect(m.signingDate).toBe(Math.floor(now / 604800) * 604800);
    expect(m.expiry).toBeLessThanOrEqual(now + 182 * 86400);
    expect(m.expiry).toBeGreaterThan(now + 182 * 86400 - 2 * 604800);
    expect(m.keyCounter).toBe(7);
    expect(m.credentialTypeHashHex).toBe(credentialTypeHashHex('irma-demo.MijnOverheid.fullName'));
  });
  it('rejects a validity before the signing date, out-of-range fields and oversized values', () => {
    const base = { credentialTypeId: 'a.b.c', keyCounter: 1, issuedAt: 1e9 };
    expect(() => createMetadata({ ...base, validUntil: 1e9 - 604800 * 2 })).toThrow(IdemixError);
    expect(() => createMetadata({ ...base, keyCounter: 70000, validUntil: 2e9 })).toThrow(IdemixError);
    expect(() => createMetadata({ ...base, issuedAt: -1, validUntil: 2e9 })).toThrow(IdemixError);
    expect(() => parseMetadata(1n << 200n)).toThrow(IdemixError);
    expect(() => parseMetadata(-1n)).toThrow(IdemixError);
  });
});
