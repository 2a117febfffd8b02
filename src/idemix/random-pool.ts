// CSPRNG bytes drawn a block at a time. node:crypto's per-call overhead (~3 µs here) was a
// measurable part of every session start, which needs a nonce and three tokens; one draw of a
// block serves hundreds of them. Every byte is handed out once and wiped from the pool.
import { randomBytes } from 'node:crypto';

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let at = 0;

/** One uniformly random byte. */
export function pooledRandomByte(): number {
  if (at === pool.length) {
    pool = randomBytes(POOL_SIZE);
    at = 0;
  }
  const byte = pool[at];
  pool[at++] = 0;
  return byte;
}

/** `n` uniformly random bytes (n at most the pool size). */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_SIZE) return randomBytes(n);
  if (pool.length - at < n) {
    pool = randomBytes(POOL_SIZE);
    at = 0;
  }
  const out = Buffer.from(pool.subarray(at, at + n));
  pool.fill(0, at, at + n);
  at += n;
  return out;
}
