import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonBytes } from '../../src/server/json-size.js';

const exact = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  Object.freeze(v);
  for (const m of Object.values(v)) deepFreeze(m);
}

describe('jsonBytes', () => {
  it('equals the UTF-8 length of JSON.stringify, frozen and shared members included', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue()), fc.array(fc.boolean()), (record, freezeFlags) => {
        Object.keys(record).forEach((k, i) => {
          if (freezeFlags[i]) deepFreeze(record[k]);
        });
        expect(jsonBytes(record)).toBe(exact(record));
        // Measured again (the frozen members from memory) and in a new version sharing them.
        expect(jsonBytes(record)).toBe(exact(record));
        const next = { ...record, added: 'é€😀', gone: undefined };
        expect(jsonBytes(next)).toBe(exact(next));
      }),
    );
  });

  it('equals it for any value JSON.stringify takes, at any depth, frozen in part', () => {
    const anything = fc.anything({
      withBigInt: false,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), anything), fc.boolean(), (record, freeze) => {
        const extra = { n: [-0, 1e21, 1.5e-7, NaN, -Infinity], f: () => 1, s: Symbol('s'), a: [undefined, () => 1, Symbol('t')] };
        const value = { ...record, extra };
        if (freeze) deepFreeze(record);
        expect(jsonBytes(value)).toBe(exact(value));
      }),
    );
  });

  it('does not trust a remembered size of a member that can still change', () => {
    const inner: Record<string, unknown> = { a: 'x' };
    const record = { inner };
    expect(jsonBytes(record)).toBe(exact(record));
    inner.a = 'a much longer value than before';
    expect(jsonBytes(record)).toBe(exact(record));
  });
});
