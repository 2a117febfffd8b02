// How deeply a JSON text nests and how many values it holds, read from the text itself before
// anything parses it. A body nested thousands deep parses, but then overflows the stack of whatever
// walks it (cloning it for a crypto worker, a schema check); a body of a hundred thousand members
// costs a schema check seconds even where it ignores them. Either may sit anywhere, even in a member
// nobody reads, so the whole text is measured.
import { ProtocolError, type ErrorType } from './errors.js';

export interface JsonBounds {
  /** 0 = no limit, for each. */
  maxDepth: number;
  maxValues: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The bound `text` exceeds, if any. Values are counted as arrays and objects plus the commas
 * between their members: exact for non-empty containers, and cheap.
 */
export function exceededBound(text: string, bounds: JsonBounds): 'depth' | 'values' | undefined {
  const maxDepth = bounds.maxDepth > 0 ? bounds.maxDepth : Infinity;
  const maxValues = bounds.maxValues > 0 ? bounds.maxValues : Infinity;
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return 'depth';
      if (++values > maxValues) return 'values';
    } else if (c === COMMA) {
      if (++values > maxValues) return 'values';
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return undefined;
}

/** Throws `type` (INVALID_REQUEST or MALFORMED_INPUT, per the API) for a body beyond `bounds`. */
export function checkJsonBounds(text: string, bounds: JsonBounds, type: ErrorType): void {
  const exceeded = exceededBound(text, bounds);
  if (exceeded === 'depth') throw new ProtocolError(type, `JSON nested more than ${bounds.maxDepth} levels deep`);
  if (exceeded === 'values') throw new ProtocolError(type, `JSON holds more than ${bounds.maxValues} values`);
}
