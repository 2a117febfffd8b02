// What the Idemix verifier needs from this layer: ν out of a signed accumulator whose ECDSA
// signature verifies with the credential's public key.
import type { PublicKey } from '../idemix/keys.js';
import type { SignedAccumulatorRef } from '../idemix/nonrevocation.js';
import { openSignedAccumulator } from './accumulator.js';

export function openAccumulator(sacc: SignedAccumulatorRef, pk: PublicKey): bigint {
  return openSignedAccumulator(sacc, pk).nu;
}
