// The reference's recorded revocation exchanges (shared/reference/vectors/revocation.json) and the
// irma-demo.MijnOverheid keys with revocation material (counters 1 and 2).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PublicKey } from '../../src/idemix/keys.js';
import { REFERENCE_DIR } from '../support/reference.js';
import { privateKey, publicKey } from '../idemix/proof-fixtures.js';

export const REVOCATION_VECTORS = resolve(REFERENCE_DIR, 'vectors', 'revocation.json');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const revocationVectors: any = JSON.parse(readFileSync(REVOCATION_VECTORS, 'utf8'));

export const ISSUER = 'irma-demo.MijnOverheid';
export const CRED_TYPE = 'irma-demo.MijnOverheid.root';
/** gabi index of root's revocation attribute. */
export const REVOCATION_INDEX = 3;

export const pk1 = publicKey(ISSUER, 1);
export const pk2 = publicKey(ISSUER, 2);
export const sk2 = privateKey(ISSUER, 2);

export function mijnOverheidKey(counter: number): PublicKey | undefined {
  return counter === 1 ? pk1 : counter === 2 ? pk2 : undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function recordedSession(label: string): any {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const s = revocationVectors.sessions.find((x: any) => x.label === label);
  if (!s) throw new Error(`no recorded revocation session ${label}`);
  return s;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function exchange(s: any, method: string, suffix: string): any {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return s.client.find((x: any) => x.method === method && x.path.endsWith(suffix));
}
