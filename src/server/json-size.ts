// The UTF-8 length of a session's JSON, without serialising it. Stored sessions are deep-frozen
// and a new version shares most members with the previous one, so the size of a frozen member is
// remembered; the rest is summed member by member. Calling JSON.stringify per member, as this did
// before, cost ~10 µs of every session start: each call crosses into V8's runtime.

const sizes = new WeakMap<object, number>();

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** Strings JSON.stringify writes as they are, one byte per character, between two quotes. */
const VERBATIM = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function stringBytes(s: string): number {
  return VERBATIM.test(s) ? s.length + 2 : bytesOf(s);
}

/** A session has a few dozen member names, measured on every write: their sizes, once each. */
const keySizes = new Map<string, number>();
const MAX_KEYS = 1024;

function keyBytes(key: string): number {
  let n = keySizes.get(key);
  if (n === undefined) {
    n = stringBytes(key);
    if (keySizes.size < MAX_KEYS) keySizes.set(key, n);
  }
  return n;
}

/** Whether JSON.stringify leaves an object member with this value out (and writes null in an array). */
const omitted = (value: unknown): boolean => value === undefined || typeof value === 'function' || typeof value === 'symbol';

function valueBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object':
      if (value === null) return 4;
      if (!Object.isFrozen(value)) return nodeBytes(value);
      {
        let n = sizes.get(value);
        if (n === undefined) sizes.set(value, (n = nodeBytes(value)));
        return n;
      }
    default:
      // bigint throws, as JSON.stringify does; the omitted kinds never get here.
      return bytesOf(value);
  }
}

function nodeBytes(node: object): number {
  const proto = Object.getPrototypeOf(node);
  if (Array.isArray(node)) {
    if (proto !== Array.prototype) return bytesOf(node);
    let n = 2;
    for (let i = 0; i < node.length; i++) {
      const v: unknown = node[i];
      n += omitted(v) ? 4 : valueBytes(v);
    }
    return node.length > 1 ? n + node.length - 1 : n;
  }
  // Dates, buffers and other classes serialise their own way (toJSON, or members JSON skips).
  if ((proto !== Object.prototype && proto !== null) || typeof (node as { toJSON?: unknown }).toJSON === 'function') {
    return bytesOf(node);
  }
  return jsonBytes(node as Record<string, unknown>);
}

/** Exactly Buffer.byteLength(JSON.stringify(record)) for a plain object of JSON values. */
export function jsonBytes(record: Record<string, unknown>): number {
  let n = 2;
  let members = 0;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (omitted(value)) continue;
    n += keyBytes(key) + 1 + valueBytes(value);
    members++;
  }
  return members > 1 ? n + members - 1 : n;
}
