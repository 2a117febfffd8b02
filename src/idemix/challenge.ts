// The Fiat–Shamir challenge of a proof list: context first, every proof's contributions in list
// order, the nonce last.
import { hashCommit } from './hash.js';

export function createChallenge(context: bigint, contributions: readonly bigint[], nonce: bigint, sig: boolean): bigint {
  return hashCommit([context, ...contributions, nonce], sig);
}
