// One SD-JWT VC as the reference issues it (sdjwtvc-issuance.md §5): an ES256 JWS with header
// {alg, typ: dc+sd-jwt, x5c}, claims iss, iat, exp, vct, _sd_alg, cnf.jwk and one digest per
// attribute in _sd, followed by the disclosures and a final `~` (no key-binding JWT).
import { CompactSign } from 'jose';
import { makeDisclosure, SD_ALG } from './disclosure.js';
import type { HolderJwk } from './holder-key.js';
import type { SdJwtIssuer } from './issuer-keys.js';

/** The media type in `typ`; apps also accept the older `vc+sd-jwt`. */
export const SD_JWT_VC_TYP = 'dc+sd-jwt';

export interface SdJwtVcInput {
  issuer: SdJwtIssuer;
  /** The IRMA credential type id, `<scheme>.<issuer>.<credential>`. */
  vct: string;
  /** Attribute id -> value, each a selectively disclosable top-level claim. */
  attributes: Readonly<Record<string, string>>;
  /** Unix seconds. */
  iat: number;
  exp: number;
  holderKey: HolderJwk;
}

export async function issueSdJwtVc(input: SdJwtVcInput): Promise<string> {
  const disclosures = Object.entries(input.attributes).map(([name, value]) => makeDisclosure(name, value));
  // Sorted digests do not reveal the order of the attributes (RFC 9901 §4.2.4.1 asks to hide it).
  const digests = disclosures.map((d) => d.digest).sort();
  // Members in the reference's (alphabetical) order.
  const payload: Record<string, unknown> = {};
  if (digests.length > 0) payload._sd = digests;
  payload._sd_alg = SD_ALG;
  payload.cnf = { jwk: { crv: input.holderKey.crv, kty: input.holderKey.kty, x: input.holderKey.x, y: input.holderKey.y } };
  payload.exp = input.exp;
  payload.iat = input.iat;
  payload.iss = input.issuer.iss;
  payload.vct = input.vct;
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: SD_JWT_VC_TYP, x5c: input.issuer.x5c })
    .sign(input.issuer.key);
  return [jws, ...disclosures.map((d) => d.encoded), ''].join('~');
}
