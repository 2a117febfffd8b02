// Parsed POST /session bodies by their text. A website starts the same request over and over (a
// login page asks for the same attributes every time), and parsing it (JSON, the Go-compatible
// schema) was the largest single cost of a session start; a hit also hands out the same frozen
// sub-trees each time, which the session store then shares and measures once instead of per session.
//
// Entries belong to the requestor that sent them (the key is requestor and text), so one requestor's
// timing says nothing about the bodies of another: neither whether another sent the same text, nor,
// since another's same text makes an entry of its own, whether its own entry was replaced. Under
// no_auth every caller is the same requestor, as every caller may start any session. Issuance
// requests are never kept: they carry personal attribute values.

/** Bodies kept at once; the least recently used one goes first. */
export const MEMO_ENTRIES = 64;
/** Longer bodies are parsed every time: they are rarely repeated, and this bounds the memo's memory. */
export const MEMO_MAX_CHARS = 8192;

import { deepFreeze } from '../protocol/deep-freeze.js';

export class RequestMemo<T extends object> {
  /** By requestor, NUL, text: unambiguous, as text that parses (valid JSON) holds no raw NUL. */
  readonly #entries = new Map<string, T>();

  /**
   * `parse(text)` frozen, from memory when `requestor` parsed this text before. Errors are not
   * kept. A result `keep` refuses is handed out frozen all the same, and parsed again next time.
   */
  parse(requestor: string, text: string, parse: (text: string) => T, keep: (value: T) => boolean): T {
    if (text.length > MEMO_MAX_CHARS) return parse(text);
    const key = `${requestor}\u0000${text}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const value = deepFreeze(parse(text));
    if (keep(value)) {
      this.#entries.set(key, value);
      if (this.#entries.size > MEMO_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    }
    return value;
  }

  get size(): number {
    return this.#entries.size;
  }
}
