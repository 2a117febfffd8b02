// The keyshare server's ProofP, carried by the app in IssueCommitmentMessage.proofPJwts as an
// RS256 JWT the issuer checks against the scheme's kss-<kid>.pem before merging (spec §9).
import { IdemixError } from '../idemix/errors.js';
import { parseProofP, type ProofP } from '../idemix/keyshare.js';
import { ProtocolError } from '../protocol/errors.js';
import type { SchemeRegistry } from '../scheme/types.js';
import { loadJose } from './jose.js';

function missing(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('KEYSHARE_PROOF_MISSING', message, cause === undefined ? {} : { cause });
}

/**
 * The key index: a decimal string in the `kid` header, 0 without one (also for a non-string kid,
 * which the reference ignores the same way).
 */
function keyIndex(jwt: string, decodeProtectedHeader: (jwt: string) => { kid?: unknown }): number {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(jwt).kid;
  } catch (err) {
    throw missing('keyshare proof is not a JWT', err);
  }
  if (typeof kid !== 'string') return 0;
  if (!/^[0-9]{1,9}$/.test(kid)) throw missing(`keyshare proof names an invalid key id`);
  return Number(kid);
}

/** Verifies the scheme's ProofP JWT; every failure is KEYSHARE_PROOF_MISSING, as in the reference. */
export async function verifyProofPJwt(jwt: string | undefined, schemeId: string, schemes: SchemeRegistry): Promise<ProofP> {
  if (jwt === undefined || jwt === '') throw missing(`no keyshare proof included for scheme ${schemeId}`);
  const { decodeProtectedHeader, jwtVerify } = await loadJose();
  const kid = keyIndex(jwt, decodeProtectedHeader);
  const key = schemes.keysharePublicKey?.(schemeId, kid);
  if (key === undefined) throw missing(`no keyshare server key ${kid} for scheme ${schemeId}`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(jwt, key, { algorithms: ['RS256'], subject: 'ProofP' }));
  } catch (err) {
    throw missing(`invalid keyshare proof included for scheme ${schemeId}`, err);
  }
  try {
    return parseProofP(payload.ProofP);
  } catch (err) {
    if (err instanceof IdemixError) throw missing(`malformed keyshare proof for scheme ${schemeId}: ${err.message}`, err);
    throw err;
  }
}
