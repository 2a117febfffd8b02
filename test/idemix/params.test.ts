import { describe, expect, it } from 'vitest';
import { IdemixError } from '../../src/idemix/errors.js';
import { NONCE_BITS, SECRET_KEY_BITS, SHARED_RANDOMIZER_BITS, systemParameters } from '../../src/idemix/params.js';

// The spec's §1 tables, column by column.
const table = {
  1024: { Ln: 1024, Lm: 256, Lh: 256, Lstatzk: 80, LePrime: 120, Le: 597, LeCommit: 456, LmCommit: 592, LRA: 1104, LsCommit: 593, Lv: 1700, LvCommit: 2036, LvPrime: 1104, LvPrimeCommit: 1440 },
  2048: { Ln: 2048, Lm: 256, Lh: 256, Lstatzk: 128, LePrime: 120, Le: 645, LeCommit: 504, LmCommit: 640, LRA: 2176, LsCommit: 641, Lv: 2820, LvCommit: 3204, LvPrime: 2176, LvPrimeCommit: 2560 },
  4096: { Ln: 4096, Lm: 512, Lh: 256, Lstatzk: 128, LePrime: 120, Le: 901, LeCommit: 504, LmCommit: 896, LRA: 4224, LsCommit: 897, Lv: 5124, LvCommit: 5508, LvPrime: 4224, LvPrimeCommit: 4608 },
};

describe('systemParameters', () => {
  for (const [bits, expected] of Object.entries(table)) {
    it(`matches the spec table for ${bits}-bit keys`, () => {
      expect({ ...systemParameters(Number(bits)) }).toEqual(expected);
    });
  }

  it('rejects other modulus sizes with INVALID_KEY', () => {
    for (const bits of [0, 512, 1023, 1025, 3072, 8192, NaN]) {
      expect(() => systemParameters(bits)).toThrow(IdemixError);
      try {
        systemParameters(bits);
      } catch (e) {
        expect((e as IdemixError).code).toBe('INVALID_KEY');
      }
    }
  });

  it('hands out frozen objects so no caller can corrupt the shared parameters', () => {
    const p = systemParameters(1024);
    expect(Object.isFrozen(p)).toBe(true);
    expect(systemParameters(1024)).toBe(p);
  });

  it('has the global constants of the spec', () => {
    expect([SECRET_KEY_BITS, SHARED_RANDOMIZER_BITS, NONCE_BITS]).toEqual([255, 592, 128]);
    expect(SECRET_KEY_BITS).toBe(systemParameters(1024).Lm - 1);
    expect(SHARED_RANDOMIZER_BITS).toBe(systemParameters(1024).LmCommit);
  });
});
