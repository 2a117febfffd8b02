// irmago's policy on a verified non-revocation proof (digest §4.3): the accumulator may not be
// older than the one this server handed out, and one older than the tolerance only proves
// non-revocation up to its own time (`notrevokedbefore`).
import type { ProofD } from '../idemix/proofs.js';
import type { PublicKey } from '../idemix/keys.js';
import type { SessionRequest } from '../protocol/requests.js';
import { openSignedAccumulator } from '../revocation/accumulator.js';
import { DEFAULT_TOLERANCE } from '../revocation/settings.js';
import type { CredentialType } from '../scheme/types.js';

export interface NonRevocationVerdict {
  invalid: boolean;
  notRevoked?: boolean;
  notRevokedBefore?: number;
}

/** Index of the last event of the update handed out for this key counter (0 without one). */
function handedOutIndex(request: SessionRequest, type: string, counter: number): number {
  const update = request.revocation?.[type]?.updates?.[String(counter)] as { e?: { i?: unknown; e?: unknown } } | undefined;
  const e = update?.e;
  if (!e || !Array.isArray(e.e) || e.e.length === 0) return 0;
  return (typeof e.i === 'number' ? e.i : 0) + e.e.length - 1;
}

/** `validAt`: Unix seconds (now, or a signature's timestamp). The proof's crypto is already verified. */
export function judgeNonRevocation(proof: ProofD, pk: PublicKey, type: CredentialType, request: SessionRequest, validAt: number): NonRevocationVerdict {
  if (!proof.nonrev) return { invalid: false };
  const acc = openSignedAccumulator(proof.nonrev.sacc, pk);
  if (handedOutIndex(request, type.id, proof.nonrev.sacc.pk) > acc.index) return { invalid: true };
  const tolerance = request.revocation?.[type.id]?.tolerance || DEFAULT_TOLERANCE;
  const out: NonRevocationVerdict = { invalid: false, notRevoked: true };
  if (Math.floor(validAt - acc.time) > tolerance) out.notRevokedBefore = acc.time;
  return out;
}

/** gabi index of the type's revocation attribute, if it has one. */
export function revocationIndexOf(type: CredentialType): number | undefined {
  const a = type.attributes.find((x) => x.revocation);
  return a === undefined ? undefined : a.index + 2;
}
