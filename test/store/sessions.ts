// Test sessions for the store tests and the store benchmark (no vitest import, so the
// benchmark can use it outside the test runner).

import { randomInt } from 'node:crypto';
import type { StoredSession } from '../../src/store/store.js';

export interface TestSession extends StoredSession {
  status: 'INITIALIZED' | 'CONNECTED' | 'DONE';
  counter: number;
  result?: string;
  nested: { list: number[] };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomChars(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A fresh session whose tokens share their first 4 characters, as the server makes them. */
export function newSession(status: TestSession['status'] = 'INITIALIZED'): TestSession {
  const tag = randomChars(4);
  return {
    clientToken: tag + randomChars(16),
    requestorToken: tag + randomChars(16),
    status,
    counter: 0,
    nested: { list: [1, 2, 3] },
  };
}

