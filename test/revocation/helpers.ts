// A real irma-demo.MijnOverheid.root credential for the tests, issued through our own issuer and
// holder code with a chosen revocation attribute.
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { signCredential } from '../../src/idemix/issuer.js';
import type { PrivateKey, PublicKey } from '../../src/idemix/keys.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import { createIssuanceCommitments, finishIssuance, generateSecretKey, type Credential } from '../../src/idemix/prover.js';
import type { ProofU } from '../../src/idemix/proofs.js';

export function signCLForTest(sk: PrivateKey, pk: PublicKey, revocationAttribute: bigint, bsn = '999999990'): Credential {
  const now = Math.floor(Date.now() / 1000);
  const attributes = [
    createMetadata({ credentialTypeId: 'irma-demo.MijnOverheid.root', keyCounter: pk.counter, issuedAt: now, validUntil: now + 3600 * 24 * 180 }),
    encodeAttribute(bsn),
    revocationAttribute,
  ];
  const c = createIssuanceCommitments({ secretKey: generateSecretKey(), credentials: [{ publicKey: pk }], context: 1n, nonce: 7n });
  const msg = signCredential({ publicKey: pk, privateKey: sk, U: (c.proofs[0] as ProofU).U, attributes, nonce2: c.nonce2 });
  return finishIssuance(c.state, 0, msg, attributes);
}
