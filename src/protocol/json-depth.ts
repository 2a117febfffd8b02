// How deeply a JSON text nests, read from the text itself, before anything parses it: a body nested
// thousands deep parses, but then overflows the stack of whatever walks it (cloning it for a crypto
// worker, a schema check), wherever it sits, even in a member the parser ignores.
import { ProtocolError, type ErrorType } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** True when some array or object in `text` lies more than `max` levels deep (strings skipped). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Throws `type` (INVALID_REQUEST or MALFORMED_INPUT, per the API) for a body nested too deeply. */
export function checkJsonDepth(text: string, max: number, type: ErrorType): void {
  if (max > 0 && nestsDeeperThan(text, max)) {
    throw new ProtocolError(type, `JSON nested more than ${max} levels deep`);
  }
}
