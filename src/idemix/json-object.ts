// Reading JSON objects the way Go's encoding/json does: field names match case-insensitively.
import { IdemixError } from './errors.js';

/**
 * Go decodes JSON field names case-insensitively; this mirrors that, and refuses objects that
 * name one field twice in different case (Go would silently keep one of them).
 */
export function fields(v: unknown, what: string): Map<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new IdemixError('MALFORMED', `${what} must be a JSON object`);
  }
  const out = new Map<string, unknown>();
  for (const [k, val] of Object.entries(v)) {
    const key = k.toLowerCase();
    if (out.has(key)) throw new IdemixError('MALFORMED', `${what} has field ${k} twice`);
    out.set(key, val);
  }
  return out;
}

/** A field that is there and not null (Go leaves a pointer nil for both). */
export function present(f: Map<string, unknown>, name: string): boolean {
  const v = f.get(name.toLowerCase());
  return v !== undefined && v !== null;
}
