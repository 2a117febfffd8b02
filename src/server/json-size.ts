// The UTF-8 length of a session's JSON, without serialising what was measured before. Stored
// sessions are deep-frozen and a new version shares most members with the previous one, so the
// size of a frozen member is remembered; only the members a write replaced are serialised again.

const sizes = new WeakMap<object, number>();

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** A session has a few dozen member names, measured on every write: their sizes, once each. */
const keySizes = new Map<string, number>();
const MAX_KEYS = 1024;

function keyBytes(key: string): number {
  let n = keySizes.get(key);
  if (n === undefined) {
    n = bytesOf(key);
    if (keySizes.size < MAX_KEYS) keySizes.set(key, n);
  }
  return n;
}

function memberBytes(value: unknown): number {
  if (value === null || typeof value !== 'object' || !Object.isFrozen(value)) return bytesOf(value);
  let n = sizes.get(value);
  if (n === undefined) sizes.set(value, (n = bytesOf(value)));
  return n;
}

/** Exactly Buffer.byteLength(JSON.stringify(record)) for a plain object of JSON values. */
export function jsonBytes(record: Record<string, unknown>): number {
  let n = 2;
  let members = 0;
  for (const key of Object.keys(record)) {
    const value = record[key];
    // JSON.stringify leaves these members out.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    n += keyBytes(key) + 1 + memberBytes(value);
    members++;
  }
  return members > 1 ? n + members - 1 : n;
}
