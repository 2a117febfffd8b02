// AES-256-GCM over strings for the store's value codec: the native addon's one-call seal and open
// when it is built, node:crypto's Cipheriv otherwise. Both give the same bytes (test/store/gcm.test.ts).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { nativeBinding } from '../idemix/native/binding.js';

export const GCM_TAG_BYTES = 16;

export interface Gcm {
  /** ciphertext || tag of the plaintext's UTF-8 bytes; key 32 bytes, iv 12. */
  seal(key: Buffer, iv: Buffer, aad: string, plaintext: string): Buffer;
  /** The plaintext, or null when the tag does not verify; body is ciphertext || tag, at least the tag long. */
  open(key: Buffer, iv: Buffer, aad: string, body: Buffer): string | null;
}

export const nodeCryptoGcm: Gcm = {
  seal(key, iv, aad, plaintext) {
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  },
  open(key, iv, aad, body) {
    const end = body.length - GCM_TAG_BYTES;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(body.subarray(end));
      return Buffer.concat([decipher.update(body.subarray(0, end)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  },
};

/**
 * Node's Cipheriv is a stream object made per call: its JavaScript layers cost several times the
 * cipher for a session's few kilobytes (~3x per seal and open measured), and a fresh server runs
 * them unoptimised for its first thousands of calls.
 */
export const nativeGcm: Gcm | null =
  nativeBinding?.gcmSeal && nativeBinding.gcmOpen
    ? { seal: nativeBinding.gcmSeal.bind(nativeBinding), open: nativeBinding.gcmOpen.bind(nativeBinding) }
    : null;

export const gcm: Gcm = nativeGcm ?? nodeCryptoGcm;
