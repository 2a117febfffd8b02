// Sealing of session values at rest (AES-256-GCM) for the Redis store.
//
// Envelope (one line of text, so it travels as a Redis string and a pub/sub message):
//   enc1.<key id>.<base64url(iv)>.<base64url(ciphertext || tag)>
// The associated data binds a value to the Redis key it is stored under, so a value copied
// onto another session's key does not open. The key id selects the key from the ring, so a
// new key can be put first while values sealed under older keys stay readable until they
// expire or are rewritten.

import { pooledRandomBytes } from '../idemix/random-pool.js';
import { gcm as defaultGcm, GCM_TAG_BYTES, type Gcm } from './gcm.js';
import { StoreError } from './store.js';

export interface StoreEncryptionKey {
  /** Short name stored in every envelope; letters, digits, `_` and `-`, at most 64. */
  id: string;
  /** 32 random bytes, base64. */
  key: string;
}

export interface ValueCodec {
  readonly encrypting: boolean;
  seal(plaintext: string, associatedData: string): string;
  /** Throws StoreError('CORRUPT') for anything that does not open. */
  open(stored: string, associatedData: string): string;
}

const PREFIX = 'enc1';
const IV_BYTES = 12;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface CodecOptions {
  /**
   * Accept values stored without encryption. Only for migrating a running deployment to
   * encryption: anyone able to write to Redis could otherwise plant a forged session.
   */
  allowPlaintext?: boolean;
  /** The AES-GCM implementation; the native one when built. Tests pick each. */
  gcm?: Gcm;
}

/** A codec for the key ring; without keys, values are stored as plain JSON text. */
export function createValueCodec(keys: readonly StoreEncryptionKey[] = [], options: CodecOptions = {}): ValueCodec {
  if (keys.length === 0) return plainCodec;
  const ring = new Map<string, Buffer>();
  for (const { id, key } of keys) {
    if (!KEY_ID.test(id)) throw new TypeError(`store encryption key id ${JSON.stringify(id)} is not [A-Za-z0-9_-]{1,64}`);
    if (ring.has(id)) throw new TypeError(`store encryption key id ${id} occurs twice`);
    const bytes = Buffer.from(key, 'base64');
    if (bytes.length !== 32 || bytes.toString('base64') !== key.replace(/\s+/g, '')) {
      throw new TypeError(`store encryption key ${id} is not 32 bytes of base64`);
    }
    ring.set(id, bytes);
  }
  const [current] = keys;
  const currentKey = ring.get(current.id)!;
  const allowPlaintext = options.allowPlaintext ?? false;
  const aes = options.gcm ?? defaultGcm;

  return {
    encrypting: true,
    seal(plaintext, associatedData) {
      // From the process's CSPRNG pool, as session tokens are: a randomBytes call per write cost
      // ~20 µs a session in a fresh server's first sessions, each byte is handed out once either way.
      const iv = pooledRandomBytes(IV_BYTES);
      const body = aes.seal(currentKey, iv, associatedData, plaintext);
      return `${PREFIX}.${current.id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(stored, associatedData) {
      if (!stored.startsWith(`${PREFIX}.`)) {
        if (allowPlaintext && stored.startsWith('{')) return stored;
        throw new StoreError('CORRUPT', 'stored session is not sealed');
      }
      const parts = stored.split('.');
      if (parts.length !== 4) throw new StoreError('CORRUPT', 'malformed sealed session');
      const key = ring.get(parts[1]);
      if (key === undefined) throw new StoreError('CORRUPT', `sealed with unknown store key ${parts[1]}`);
      const iv = Buffer.from(parts[2], 'base64url');
      const body = Buffer.from(parts[3], 'base64url');
      if (iv.length !== IV_BYTES || body.length < GCM_TAG_BYTES) throw new StoreError('CORRUPT', 'malformed sealed session');
      const plaintext = aes.open(key, iv, associatedData, body);
      if (plaintext === null) throw new StoreError('CORRUPT', 'sealed session does not open');
      return plaintext;
    },
  };
}

const plainCodec: ValueCodec = {
  encrypting: false,
  seal: (plaintext) => plaintext,
  open(stored) {
    // A sealed value here means the key ring was removed from the configuration.
    if (stored.startsWith(`${PREFIX}.`)) throw new StoreError('CORRUPT', 'stored session is sealed but no store key is configured');
    return stored;
  },
};
