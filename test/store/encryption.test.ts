import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createValueCodec } from '../../src/store/encryption.js';
import { StoreError } from '../../src/store/store.js';

const k1 = { id: 'k1', key: randomBytes(32).toString('base64') };
const k2 = { id: 'k2', key: randomBytes(32).toString('base64') };
const json = JSON.stringify({ clientToken: 'abcd', secret: 'attribute value' });

function corrupt(f: () => unknown): void {
  expect(f).toThrow(StoreError);
  try {
    f();
  } catch (e) {
    expect((e as StoreError).code).toBe('CORRUPT');
  }
}

describe('store value codec', () => {
  it('seals with AES-256-GCM under the first key, with the key id and AAD in play', () => {
    const codec = createValueCodec([k1, k2]);
    const sealed = codec.seal(json, 'irma:{abcd}:session:x');
    expect(sealed).not.toContain('attribute value');
    const [prefix, id, iv, body] = sealed.split('.');
    expect([prefix, id]).toEqual(['enc1', 'k1']);
    // open it independently with node:crypto to pin the format
    const raw = Buffer.from(body, 'base64url');
    const d = createDecipheriv('aes-256-gcm', Buffer.from(k1.key, 'base64'), Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from('irma:{abcd}:session:x'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    expect(Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]).toString()).toBe(json);
    expect(codec.open(sealed, 'irma:{abcd}:session:x')).toBe(json);
    // fresh IV per seal: 12 bytes each, never repeated (a repeat under one key breaks GCM)
    const ivs = Array.from({ length: 5_000 }, () => codec.seal(json, 'a').split('.')[2]);
    expect(new Set(ivs).size).toBe(ivs.length);
    expect(ivs.every((x) => Buffer.from(x, 'base64url').length === 12)).toBe(true);
  });

  it('opens values sealed under an older key after rotation, and not after the key is dropped', () => {
    const old = createValueCodec([k1]).seal(json, 'aad');
    expect(createValueCodec([k2, k1]).open(old, 'aad')).toBe(json);
    corrupt(() => createValueCodec([k2]).open(old, 'aad'));
  });

  it('refuses a value under another associated data, tampered, truncated or garbage', () => {
    const codec = createValueCodec([k1]);
    const sealed = codec.seal(json, 'session:A');
    corrupt(() => codec.open(sealed, 'session:B'));
    const flipped = sealed.slice(0, -3) + (sealed.at(-3) === 'A' ? 'B' : 'A') + sealed.slice(-2);
    corrupt(() => codec.open(flipped, 'session:A'));
    corrupt(() => codec.open(sealed.slice(0, 30), 'session:A'));
    corrupt(() => codec.open('enc1.k1.x.y', 'session:A'));
    corrupt(() => codec.open('enc1', 'session:A'));
    corrupt(() => codec.open('', 'session:A'));
  });

  it('reads plain JSON only when migrating, and plain mode refuses sealed values', () => {
    corrupt(() => createValueCodec([k1]).open(json, 'aad'));
    expect(createValueCodec([k1], { allowPlaintext: true }).open(json, 'aad')).toBe(json);
    const plain = createValueCodec();
    expect(plain.encrypting).toBe(false);
    expect(plain.seal(json, 'aad')).toBe(json);
    corrupt(() => plain.open(createValueCodec([k1]).seal(json, 'aad'), 'aad'));
  });

  it('rejects bad key rings', () => {
    expect(() => createValueCodec([{ id: 'k1', key: randomBytes(16).toString('base64') }])).toThrow(TypeError);
    expect(() => createValueCodec([{ id: 'bad.id', key: k1.key }])).toThrow(TypeError);
    expect(() => createValueCodec([k1, { ...k2, id: 'k1' }])).toThrow(TypeError);
    expect(() => createValueCodec([{ id: 'k', key: 'not base64!' }])).toThrow(TypeError);
  });
});
