// The app's JSON bodies. Big integers are base64 strings, but the reference's decoder also takes
// a bare non-negative JSON integer for one, of any size; JSON.parse would round those beyond 2^53.
// So before parsing, each bare integer too long for a double is rewritten in the text as the base64
// string it stands for: everything after sees only that form, and parsing stays JSON.parse.
import { encodeB64 } from '../idemix/bigint.js';

/** Shorter integers fit a double exactly, so JSON.parse already reads them right. */
const SAFE_DIGITS = 15;
/**
 * Decimal to binary takes time quadratic in the digits (JSON.parse's too), and no value of the
 * protocol has more than some 1,600: a longer number, or more than DIGIT_BUDGET digits of big
 * integers in one body, makes the body malformed.
 */
const MAX_DIGITS = 1700;
const DIGIT_BUDGET = 32 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** Digits, '.', 'e', 'E', '+', '-': what a JSON number token is made of. */
function isNumberChar(c: number): boolean {
  return isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

/**
 * `text` with its long bare non-negative integers as base64 strings; unchanged if it has none.
 * Throws SyntaxError for numbers beyond the bounds above.
 */
export function withBigIntegersAsBase64(text: string): string {
  let out = '';
  let copied = 0;
  let budget = DIGIT_BUDGET;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      continue;
    }
    if (c !== MINUS && !isDigit(c)) continue;
    // A number token: its extent, and whether it is a plain non-negative integer.
    const start = i;
    while (i + 1 < text.length && isNumberChar(text.charCodeAt(i + 1))) i++;
    const token = text.slice(start, i + 1);
    if (token.length <= SAFE_DIGITS) continue;
    if (token.length > MAX_DIGITS) throw new SyntaxError(`number of ${token.length} characters`);
    if (!/^[1-9][0-9]*$/.test(token)) continue;
    budget -= token.length;
    if (budget < 0) throw new SyntaxError('too many digits of big integers');
    out += `${text.slice(copied, start)}"${encodeB64(BigInt(token))}"`;
    copied = i + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** JSON.parse, except that bare integers beyond 2^53 arrive as base64 strings. Throws SyntaxError. */
export function parseClientJson(text: string): unknown {
  return JSON.parse(withBigIntegersAsBase64(text));
}
