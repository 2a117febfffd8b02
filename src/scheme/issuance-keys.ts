// Which key pair the issuer signs a credential type with, and whether it may: the reference
// signs with the highest-counter private key and refuses (INVALID_REQUEST to the requestor) when
// that key's public half is missing, expired, or too small for the type.
import type { PrivateKey, PublicKey } from '../idemix/keys.js';
import { SchemeError } from './errors.js';
import type { SchemeRegistry } from './types.js';

export interface IssuanceKeys {
  privateKey: PrivateKey;
  publicKey: PublicKey;
}

/** `now` in Unix seconds. Throws SchemeError (UNKNOWN_IDENTIFIER, MISSING_PRIVATE_KEY, MISSING_PUBLIC_KEY, EXPIRED_KEY, INVALID_KEY). */
export function issuanceKeys(
  registry: SchemeRegistry,
  credentialTypeId: string,
  now: number = Math.floor(Date.now() / 1000),
): IssuanceKeys {
  const ct = registry.credentialType(credentialTypeId);
  if (!ct) {
    const schemePath = registry.scheme(credentialTypeId.split('.')[0])?.path ?? '';
    throw new SchemeError('UNKNOWN_IDENTIFIER', schemePath, `unknown credential type ${credentialTypeId}`);
  }
  const issuerPath = `${registry.scheme(ct.schemeId)?.path ?? ''}/${ct.issuerId.slice(ct.schemeId.length + 1)}`;
  const privateKey = registry.latestPrivateKey(ct.issuerId);
  if (!privateKey) throw new SchemeError('MISSING_PRIVATE_KEY', issuerPath, `missing private key of issuer ${ct.issuerId}`);
  const publicKey = registry.publicKey(ct.issuerId, privateKey.counter);
  if (!publicKey) {
    throw new SchemeError('MISSING_PUBLIC_KEY', issuerPath, `missing public key of issuer ${ct.issuerId}-${privateKey.counter}`);
  }
  if (now > publicKey.expiryDate) {
    throw new SchemeError('EXPIRED_KEY', issuerPath, `cannot issue using expired public key ${ct.issuerId}-${publicKey.counter}`);
  }
  if (publicKey.R.length < ct.attributes.length + 2) {
    throw new SchemeError('INVALID_KEY', issuerPath, `public key ${ct.issuerId}-${publicKey.counter} has too few bases for ${ct.id}`);
  }
  return { privateKey, publicKey };
}
