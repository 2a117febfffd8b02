// Stored credentials read through the schemes: attribute values by name, issuance and expiry
// dates from the metadata attribute. This is the view that choosing and showing work on.
import { decodeB64 } from '../idemix/bigint.js';
import { decodeAttribute, randomBlindDisplay } from '../idemix/attributes.js';
import { parseMetadata } from '../idemix/metadata.js';
import type { CredentialType, SchemeRegistry } from '../scheme/types.js';
import { ClientError } from './errors.js';
import type { StoredCredential } from './storage.js';

export interface WalletCredential {
  id: string;
  credentialType: string;
  keyCounter: number;
  /** Unix seconds (a week boundary): the signing date in the metadata attribute. */
  issuedAt: number;
  /** Unix seconds. */
  expires: number;
  /** Attribute short id -> value as disclosed (random-blind values in base62); null = absent. */
  attributes: Record<string, string | null>;
  storedAt: number;
}

/** The string irmago shows and discloses for attribute integer `m` of type `index` (gabi j+2). */
function attributeValue(type: CredentialType, index: number, m: bigint, metadataVersion: number): string | null {
  const attr = type.attributes[index];
  if (attr?.randomBlind) return m === 0n ? null : randomBlindDisplay(m);
  // The revocation attribute holds the witness prime, not a string.
  if (attr?.revocation) return m.toString();
  return decodeAttribute(m, metadataVersion >= 3 ? 3 : 2);
}

export function readCredential(stored: StoredCredential, schemes: SchemeRegistry): WalletCredential {
  const type = schemes.credentialType(stored.credentialType);
  if (!type) {
    throw new ClientError('unknownIdentifier', `stored credential ${stored.id} has unknown type ${stored.credentialType}`);
  }
  let ints: bigint[];
  try {
    ints = stored.attributes.map((a) => decodeB64(a, 'stored attribute'));
  } catch (err) {
    throw new ClientError('storage', `stored credential ${stored.id} is corrupt`, { cause: err });
  }
  const meta = parseMetadata(ints[0]);
  if (ints.length !== type.attributes.length + 1) {
    throw new ClientError('storage', `stored credential ${stored.id} has ${ints.length - 1} attributes, its type ${type.attributes.length}`);
  }
  const attributes: Record<string, string | null> = {};
  type.attributes.forEach((attr, j) => {
    attributes[attr.shortId] = attributeValue(type, j, ints[j + 1], meta.version);
  });
  return {
    id: stored.id,
    credentialType: stored.credentialType,
    keyCounter: stored.keyCounter,
    issuedAt: meta.signingDate,
    expires: meta.expiry,
    attributes,
    storedAt: stored.storedAt,
  };
}
