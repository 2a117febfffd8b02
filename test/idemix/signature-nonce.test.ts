import { describe, expect, it } from 'vitest';
import { signatureNonce } from '../../src/idemix/signature-nonce.js';

describe('signature nonce N_sig (spec §8.3)', () => {
  it('matches the worked example without timestamp', () => {
    expect(signatureNonce(42n, 'I owe you everything').toString(16)).toBe(
      '8578e5b1b584beaa7d40a3336a4d945d3e40092e373d8fab148f9beaa6892b47',
    );
  });
  it('depends on the nonce, the message and the timestamp signature', () => {
    const base = signatureNonce(42n, 'I owe you everything');
    expect(signatureNonce(43n, 'I owe you everything')).not.toBe(base);
    expect(signatureNonce(42n, 'I owe you nothing')).not.toBe(base);
    expect(signatureNonce(42n, 'I owe you everything', Buffer.from([1]))).not.toBe(base);
    expect(signatureNonce(42n, 'I owe you everything', null)).toBe(base);
  });
});
