// Dotted IRMA identifiers: scheme, issuer ("scheme.issuer"), credential type
// ("scheme.issuer.cred") and attribute type ("scheme.issuer.cred.attr"). Parts are counted the
// reference's way, by dots, so "a..b.c" has four parts.

/** Longest identifier we accept anywhere; real ones are a few dozen characters. */
export const MAX_IDENTIFIER_LENGTH = 512;

export function partsCount(id: string): number {
  // Counted, not split: every identifier of every request passes here several times.
  let parts = 1;
  for (let i = id.indexOf('.'); i !== -1; i = id.indexOf('.', i + 1)) parts++;
  return parts;
}

/** A three-part attribute request asks for the credential itself. */
export function isCredentialId(id: string): boolean {
  return partsCount(id) === 3;
}

function parent(id: string): string {
  const i = id.lastIndexOf('.');
  return i === -1 ? id : id.slice(0, i);
}

export function credentialTypeOf(attributeOrCredentialId: string): string {
  return isCredentialId(attributeOrCredentialId) ? attributeOrCredentialId : parent(attributeOrCredentialId);
}

export function issuerOf(credentialTypeId: string): string {
  return parent(credentialTypeId);
}

export function schemeOf(id: string): string {
  const i = id.indexOf('.');
  return i === -1 ? id : id.slice(0, i);
}

export function nameOf(id: string): string {
  return id.slice(id.lastIndexOf('.') + 1);
}
