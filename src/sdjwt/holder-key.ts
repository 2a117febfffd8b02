// The holder's public keys from `keybinding_pub_keys` (sdjwtvc-issuance.md §2.2, §5.4). The
// reference embeds whatever JWK it gets; here only a P-256 public key on the curve passes, reduced
// to the members the app sends, so `cnf.jwk` can never carry private or unexpected material.
import { createPublicKey } from 'node:crypto';
import { SdJwtError } from './errors.js';

export interface HolderJwk {
  crv: 'P-256';
  kty: 'EC';
  x: string;
  y: string;
}

/** JWK members that hold private key material in any key type (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function coordinate(jwk: Record<string, unknown>, name: 'x' | 'y', where: string): string {
  const v = jwk[name];
  // 32 bytes are 43 base64url characters; the round trip refuses padding and stray bits.
  if (typeof v !== 'string' || v.length !== 43 || Buffer.from(v, 'base64url').toString('base64url') !== v) {
    throw new SdJwtError(`${where}: member ${name} must be a 32-byte base64url coordinate`);
  }
  return v;
}

/** One holder key, checked and reduced to {crv, kty, x, y}. `where` names it in errors. */
export function parseHolderKey(input: unknown, where = 'holder key'): HolderJwk {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new SdJwtError(`${where}: not a JWK object`);
  const jwk = input as Record<string, unknown>;
  for (const m of PRIVATE_MEMBERS) {
    if (Object.hasOwn(jwk, m)) throw new SdJwtError(`${where}: contains private key material (member ${m})`);
  }
  if (jwk.kty !== 'EC') throw new SdJwtError(`${where}: key type must be EC`);
  if (jwk.crv !== 'P-256') throw new SdJwtError(`${where}: curve must be P-256`);
  const key: HolderJwk = { crv: 'P-256', kty: 'EC', x: coordinate(jwk, 'x', where), y: coordinate(jwk, 'y', where) };
  try {
    // OpenSSL refuses a point that is not on the curve.
    createPublicKey({ key: { ...key }, format: 'jwk' });
  } catch {
    throw new SdJwtError(`${where}: not a point on P-256`);
  }
  return key;
}

/** All keys of one commitments message; the app never sends one key twice, and neither may anyone else. */
export function parseHolderKeys(input: readonly unknown[]): HolderJwk[] {
  const seen = new Set<string>();
  return input.map((v, i) => {
    const key = parseHolderKey(v, `keybinding_pub_keys[${i}]`);
    const id = `${key.x}.${key.y}`;
    if (seen.has(id)) throw new SdJwtError(`keybinding_pub_keys[${i}]: the same key occurs twice`);
    seen.add(id);
    return key;
  });
}

export function sameHolderKey(a: HolderJwk, b: HolderJwk): boolean {
  return a.x === b.x && a.y === b.y && a.crv === b.crv && a.kty === b.kty;
}
