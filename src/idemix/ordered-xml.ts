// The XML reading shared by key files (here) and scheme descriptions (src/scheme): an element tree
// in document order, because order carries meaning in both (a key's bases, a credential type's
// attributes). Only the five predefined entities are expanded; a DOCTYPE is refused outright,
// which rules out entity-expansion tricks.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: false,
  trimValues: true,
});

type RawNode = Record<string, unknown>;

function toElements(nodes: unknown): XmlElement[] {
  if (!Array.isArray(nodes)) return [];
  const out: XmlElement[] = [];
  for (const node of nodes as RawNode[]) {
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || name === '#text' || name === '#comment' || name.startsWith('?')) continue;
    const raw = node[name];
    const kids = Array.isArray(raw) ? (raw as RawNode[]) : [];
    const text = kids
      .filter((k) => '#text' in k)
      .map((k) => String(k['#text']))
      .join('');
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries((node[':@'] ?? {}) as Record<string, unknown>)) attrs[k] = String(v);
    out.push({ name, attrs, children: toElements(kids), text });
  }
  return out;
}

/**
 * The top-level elements of `xml`. Throws a plain Error whose message says what is wrong; callers
 * wrap it in their own typed error, naming the file.
 */
export function parseOrderedXml(xml: string): XmlElement[] {
  if (typeof xml !== 'string') throw new Error('XML must be a string');
  if (/<!DOCTYPE/i.test(xml)) throw new Error('XML with a DOCTYPE is not accepted');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`XML does not parse: ${valid.err.msg} at line ${valid.err.line}`);
  try {
    return toElements(parser.parse(xml));
  } catch (e) {
    throw new Error(`XML does not parse: ${(e as Error).message}`);
  }
}
