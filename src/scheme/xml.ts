// A small ordered view of the description.xml files of a scheme. Element order matters (the
// attributes of a credential type are positional), so the parser keeps every child list in
// document order, and every accessor reports the file it was reading when something is wrong.
import { parseOrderedXml, type XmlElement } from '../idemix/ordered-xml.js';
import { SchemeError } from './errors.js';
import type { Translated } from './types.js';

export type { XmlElement };

/** Parses `xml` (read from `path`) and returns its single root element, which must be `rootName`. */
export function parseXml(xml: string, path: string, rootName: string): XmlElement {
  let roots: XmlElement[];
  try {
    roots = parseOrderedXml(xml);
  } catch (e) {
    throw new SchemeError('MALFORMED', path, (e as Error).message, { cause: e });
  }
  if (roots.length !== 1 || roots[0].name !== rootName) {
    throw new SchemeError('MALFORMED', path, `expected one <${rootName}> root element`);
  }
  return roots[0];
}

export function childElement(parent: XmlElement, name: string, path: string): XmlElement | undefined {
  const found = parent.children.filter((c) => c.name === name);
  if (found.length > 1) throw new SchemeError('MALFORMED', path, `duplicate <${name}> in <${parent.name}>`);
  return found[0];
}

/** Text of an optional child; absent and empty both come back as undefined. */
export function optionalText(parent: XmlElement, name: string, path: string): string | undefined {
  const el = childElement(parent, name, path);
  return el && el.text !== '' ? el.text : undefined;
}

export function requiredText(parent: XmlElement, name: string, path: string): string {
  const text = optionalText(parent, name, path);
  if (text === undefined) throw new SchemeError('MALFORMED', path, `missing or empty <${name}> in <${parent.name}>`);
  return text;
}

// The spellings Go's strconv.ParseBool accepts, which is how the reference reads these elements.
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** An optional boolean element; absent or empty means false. */
export function booleanText(parent: XmlElement, name: string, path: string): boolean {
  const text = optionalText(parent, name, path);
  if (text === undefined || FALSE.has(text)) return false;
  if (TRUE.has(text)) return true;
  throw new SchemeError('MALFORMED', path, `<${name}> must be true or false, not "${text}"`);
}

/** An optional boolean XML attribute, read the same way. */
export function booleanAttribute(el: XmlElement, name: string, path: string): boolean {
  const text = el.attrs[name];
  if (text === undefined || text === '' || FALSE.has(text)) return false;
  if (TRUE.has(text)) return true;
  throw new SchemeError('MALFORMED', path, `${name}="${text}" on <${el.name}> must be true or false`);
}

/** A <Name>-style element whose children are language codes. */
export function translatedText(parent: XmlElement, name: string, path: string): Translated {
  const el = childElement(parent, name, path);
  const out: Translated = {};
  for (const lang of el?.children ?? []) {
    if (lang.name in out) throw new SchemeError('MALFORMED', path, `duplicate language <${lang.name}> in <${name}>`);
    out[lang.name] = lang.text;
  }
  return out;
}
