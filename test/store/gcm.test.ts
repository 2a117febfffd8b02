// The store's AES-256-GCM: the native addon's seal and open against node:crypto's, byte for byte,
// over arbitrary strings (lone surrogates included) and every kind of tampering.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createValueCodec } from '../../src/store/encryption.js';
import { gcm, GCM_TAG_BYTES, nativeGcm, nodeCryptoGcm, type Gcm } from '../../src/store/gcm.js';

const key = randomBytes(32);
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 5000 }), fc.json());

describe('store AES-GCM', () => {
  it('uses the native addon when the CI build asked for it', () => {
    if (process.env.IRMA_NATIVE === '1') expect(nativeGcm).not.toBeNull();
    expect(gcm).toBe(nativeGcm ?? nodeCryptoGcm);
  });

  const paths: [string, Gcm | null][] = [
    ['native', nativeGcm],
    ['node:crypto', nodeCryptoGcm],
  ];
  for (const [name, impl] of paths) {
    it.skipIf(impl === null)(`${name}: seals the same bytes as node:crypto and opens what it seals`, () => {
      fc.assert(
        fc.property(text, fc.string({ unit: 'binary', maxLength: 80 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), (plain, aad, ivBytes) => {
          const iv = Buffer.from(ivBytes);
          const sealed = impl!.seal(key, iv, aad, plain);
          expect(sealed.equals(nodeCryptoGcm.seal(key, iv, aad, plain))).toBe(true);
          const expected = Buffer.from(plain, 'utf8').toString('utf8');
          expect(impl!.open(key, iv, aad, sealed)).toBe(expected);
          expect(nodeCryptoGcm.open(key, iv, aad, sealed)).toBe(expected);
        }),
        { numRuns: 300 },
      );
    });

    it.skipIf(impl === null)(`${name}: returns null for a wrong key, IV or AAD and any flipped bit`, () => {
      const iv = randomBytes(12);
      const plain = JSON.stringify({ attribute: 'secret value', n: 'é'.repeat(40) });
      const sealed = impl!.seal(key, iv, 'session:A', plain);
      expect(impl!.open(randomBytes(32), iv, 'session:A', sealed)).toBeNull();
      expect(impl!.open(key, randomBytes(12), 'session:A', sealed)).toBeNull();
      expect(impl!.open(key, iv, 'session:B', sealed)).toBeNull();
      for (let bit = 0; bit < sealed.length * 8; bit += 7) {
        const t = Buffer.from(sealed);
        t[bit >> 3] ^= 1 << (bit & 7);
        expect(impl!.open(key, iv, 'session:A', t)).toBeNull();
      }
      expect(impl!.open(key, iv, 'session:A', sealed.subarray(0, GCM_TAG_BYTES))).toBeNull();
      expect(impl!.open(key, iv, 'session:A', sealed.subarray(1))).toBeNull();
      // the empty plaintext has a tag of its own
      const empty = impl!.seal(key, iv, '', '');
      expect(empty.length).toBe(GCM_TAG_BYTES);
      expect(impl!.open(key, iv, '', empty)).toBe('');
    });
  }

  it.skipIf(nativeGcm === null)('native: refuses arguments of the wrong kind or size with an error, not a crash', () => {
    const iv = randomBytes(12);
    const n = nativeGcm!;
    expect(() => n.seal(randomBytes(16), iv, '', 'x')).toThrow(/32-byte/);
    expect(() => n.seal(key, randomBytes(16), '', 'x')).toThrow(/12-byte/);
    expect(() => n.seal(key, iv, 1 as unknown as string, 'x')).toThrow(/string/);
    expect(() => n.open(key, iv, '', Buffer.alloc(15))).toThrow(/tag/);
  });

  it.skipIf(nativeGcm === null)('codecs on either path open each other’s envelopes', () => {
    const keys = [{ id: 'k1', key: key.toString('base64') }];
    const native = createValueCodec(keys, { gcm: nativeGcm! });
    const js = createValueCodec(keys, { gcm: nodeCryptoGcm });
    const value = JSON.stringify({ clientToken: 'abc', status: 'DONE', x: '\u{1F600}'.repeat(10) });
    expect(js.open(native.seal(value, 'irma:s:1'), 'irma:s:1')).toBe(value);
    expect(native.open(js.seal(value, 'irma:s:1'), 'irma:s:1')).toBe(value);
    expect(() => native.open(js.seal(value, 'irma:s:1'), 'irma:s:2')).toThrow(/does not open/);
  });
});
