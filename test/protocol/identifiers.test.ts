// Identifier parts are counted the reference's way: by dots, empty parts included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { credentialTypeOf, isCredentialId, partsCount } from '../../src/protocol/identifiers.js';

describe('identifiers', () => {
  it('counts parts as many as a split on dots gives, for any string', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('.', 'a', 'é', '-', ''), { maxLength: 20 }).map((xs) => xs.join('')), (id) => {
        expect(partsCount(id)).toBe(id.split('.').length);
      }),
    );
    expect(partsCount('')).toBe(1);
    expect(partsCount('a..b.c')).toBe(4);
    expect(partsCount('.')).toBe(2);
  });

  it('tells credential ids from attribute ids by their parts', () => {
    expect(isCredentialId('irma-demo.MijnOverheid.fullName')).toBe(true);
    expect(isCredentialId('irma-demo.MijnOverheid.fullName.firstname')).toBe(false);
    expect(credentialTypeOf('irma-demo.MijnOverheid.fullName.firstname')).toBe('irma-demo.MijnOverheid.fullName');
    expect(credentialTypeOf('irma-demo.MijnOverheid.fullName')).toBe('irma-demo.MijnOverheid.fullName');
  });
});
