// The app's JSON bodies. Big integers are base64 strings, but the reference's decoder also takes
// a bare non-negative JSON integer for one, of any size; JSON.parse would round those beyond 2^53.
// So a body holding a long run of digits is parsed losslessly, and each integer too large for a
// double is turned into the base64 string it stands for: everything after sees only that form.
import { parse as parseLossless } from 'lossless-json';
import { encodeB64 } from '../idemix/bigint.js';

/** Shorter digit runs fit a double exactly, so JSON.parse already reads them right. */
const LONG_DIGIT_RUN = /[0-9]{16}/;
const NON_NEGATIVE_INTEGER = /^(0|[1-9][0-9]*)$/;

function numberOf(text: string): number | string {
  const n = Number(text);
  if (Number.isSafeInteger(n) || !NON_NEGATIVE_INTEGER.test(text)) return n;
  return encodeB64(BigInt(text));
}

/** JSON.parse, except that bare integers beyond 2^53 arrive as base64 strings. Throws SyntaxError. */
export function parseClientJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  return parseLossless(text, null, numberOf);
}
