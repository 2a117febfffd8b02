// The three description.xml formats of a scheme: <SchemeManager>, <Issuer> and
// <IssueSpecification>, turned into the registry's types with full dotted identifiers.
import { credentialTypeHash } from './credential-hash.js';
import { SchemeError } from './errors.js';
import type { AttributeType, CredentialType, Issuer, SchemeManager } from './types.js';
import {
  booleanAttribute,
  booleanText,
  childElement,
  optionalText,
  parseXml,
  requiredText,
  translatedText,
  type XmlElement,
} from './xml.js';

// Identifier parts are joined with dots, so a part must never contain one.
const ID_PART = /^[A-Za-z0-9_-]+$/;

function checkIdPart(id: string, what: string, path: string): void {
  if (!ID_PART.test(id)) throw new SchemeError('MALFORMED', path, `${what} "${id}" is not a valid identifier`);
}

function expectEqual(found: string, expected: string, what: string, path: string): void {
  if (found !== expected) {
    throw new SchemeError('MALFORMED', path, `${what} is "${found}" but the folder says "${expected}"`);
  }
}

/** The minimum <SchemeManager version> the reference accepts. */
const MIN_SCHEME_VERSION = 7;

export function parseSchemeDescription(xml: string, path: string, folderName: string, schemeDir: string): SchemeManager {
  const root = parseXml(xml, path, 'SchemeManager');
  const version = Number(root.attrs.version);
  if (!Number.isInteger(version) || version < MIN_SCHEME_VERSION) {
    throw new SchemeError('MALFORMED', path, `unsupported scheme description version "${root.attrs.version ?? ''}"`);
  }
  const id = requiredText(root, 'Id', path);
  checkIdPart(id, 'scheme id', path);
  expectEqual(id, folderName, 'scheme <Id>', path);
  const scheme: SchemeManager = {
    id,
    url: requiredText(root, 'Url', path),
    demo: booleanText(root, 'Demo', path),
    name: translatedText(root, 'Name', path),
    path: schemeDir,
  };
  const timestampServer = optionalText(root, 'TimestampServer', path);
  const keyshareServer = optionalText(root, 'KeyshareServer', path);
  if (timestampServer !== undefined) scheme.timestampServer = timestampServer;
  if (keyshareServer !== undefined) scheme.keyshareServer = keyshareServer;
  return scheme;
}

export function parseIssuerDescription(xml: string, path: string, schemeId: string, folderName: string): Issuer {
  const root = parseXml(xml, path, 'Issuer');
  const shortId = requiredText(root, 'ID', path);
  checkIdPart(shortId, 'issuer id', path);
  expectEqual(shortId, folderName, 'issuer <ID>', path);
  expectEqual(requiredText(root, 'SchemeManager', path), schemeId, 'issuer <SchemeManager>', path);
  return { id: `${schemeId}.${shortId}`, schemeId, shortId, name: translatedText(root, 'Name', path) };
}

function revocationDetails(
  root: XmlElement,
  servers: XmlElement | undefined,
  path: string,
): { revocationServers: string[]; revocationUpdateCount?: number } {
  const revocationServers = (servers?.children ?? []).filter((s) => s.name === 'RevocationServer' && s.text !== '').map((s) => s.text.trim());
  const count = optionalText(root, 'RevocationUpdateCount', path);
  if (count === undefined || count.trim() === '') return { revocationServers };
  const n = Number(count.trim());
  if (!Number.isInteger(n) || n < 0) throw new SchemeError('MALFORMED', path, 'RevocationUpdateCount must be an unsigned integer');
  return { revocationServers, revocationUpdateCount: n };
}

export function parseCredentialTypeDescription(
  xml: string,
  path: string,
  issuer: Issuer,
  folderName: string,
): CredentialType {
  const root = parseXml(xml, path, 'IssueSpecification');
  expectEqual(requiredText(root, 'SchemeManager', path), issuer.schemeId, 'credential type <SchemeManager>', path);
  expectEqual(requiredText(root, 'IssuerID', path), issuer.shortId, 'credential type <IssuerID>', path);
  const shortId = requiredText(root, 'CredentialID', path);
  checkIdPart(shortId, 'credential type id', path);
  expectEqual(shortId, folderName, 'credential type <CredentialID>', path);
  const id = `${issuer.id}.${shortId}`;

  const servers = childElement(root, 'RevocationServers', path);
  const revocationSupported = (servers?.children ?? []).some((s) => s.name === 'RevocationServer' && s.text !== '');

  const list = childElement(root, 'Attributes', path);
  const elements = (list?.children ?? []).filter((c) => c.name === 'Attribute');
  if (elements.length === 0) throw new SchemeError('MALFORMED', path, `credential type ${id} has no attributes`);
  const seen = new Set<string>();
  let revocationAttributes = 0;
  const attributes = elements.map((el, index): AttributeType => {
    const revocation = booleanAttribute(el, 'revocation', path);
    const randomBlind = booleanAttribute(el, 'randomblind', path);
    const shortAttrId = el.attrs.id ?? '';
    if (revocation) {
      // The reference keeps the revocation attribute nameless; it holds the witness, not data.
      if (shortAttrId !== '') throw new SchemeError('MALFORMED', path, `revocation attribute must not have an id ("${shortAttrId}")`);
      if (randomBlind) throw new SchemeError('MALFORMED', path, 'an attribute cannot be both revocation and randomblind');
      revocationAttributes++;
    } else {
      checkIdPart(shortAttrId, 'attribute id', path);
      if (seen.has(shortAttrId)) throw new SchemeError('MALFORMED', path, `duplicate attribute id "${shortAttrId}"`);
      seen.add(shortAttrId);
    }
    return {
      id: `${id}.${shortAttrId}`,
      shortId: shortAttrId,
      credentialTypeId: id,
      index,
      // The reference compares this attribute with the literal string "true".
      optional: el.attrs.optional === 'true',
      randomBlind,
      revocation,
      name: translatedText(el, 'Name', path),
    };
  });
  if (revocationAttributes > 1) throw new SchemeError('MALFORMED', path, 'more than one revocation attribute');
  if (revocationSupported !== (revocationAttributes === 1)) {
    throw new SchemeError(
      'MALFORMED',
      path,
      revocationSupported
        ? 'RevocationServers configured but no <Attribute revocation="true"/>'
        : 'revocation attribute present but no RevocationServers configured',
    );
  }
  return {
    id,
    schemeId: issuer.schemeId,
    issuerId: issuer.id,
    shortId,
    name: translatedText(root, 'Name', path),
    attributes,
    singleton: booleanText(root, 'ShouldBeSingleton', path),
    revocationSupported,
    ...(revocationSupported ? revocationDetails(root, servers, path) : {}),
    hashHex: credentialTypeHash(id),
  };
}
