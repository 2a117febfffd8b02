// The issuer's factors serve its own signing only: with every reference private key parsed (as a
// server holding them does), verifying disclosures and commitments runs no exponentiation with
// a private key, while signing does, blinded, and still yields signatures the holder accepts.
import { describe, expect, it } from 'vitest';
import { encodeAttribute } from '../../src/idemix/attributes.js';
import { signCredential, verifyIssuanceCommitments } from '../../src/idemix/issuer.js';
import { createMetadata } from '../../src/idemix/metadata.js';
import { privateKeyOperations } from '../../src/idemix/modexp.js';
import { parseProofDList, parseProofList, type ProofD, type ProofU } from '../../src/idemix/proofs.js';
import { createDisclosureProofs, createIssuanceCommitments, finishIssuance, generateSecretKey } from '../../src/idemix/prover.js';
import { verifyCLSignature } from '../../src/idemix/signature.js';
import { resolvePublicKeys, verifyDisclosureProofs } from '../../src/idemix/verifier.js';
import { b64int, clientRequest, keyForMetadata, post, privateKey, publicKey, randomBlindIndices, recorded } from './proof-fixtures.js';

const keys = [
  { issuer: 'irma-demo.MijnOverheid', counter: 2, credType: 'irma-demo.MijnOverheid.fullName', values: ['Alice Bo', 'Alice', 'Example', 'van'] },
  { issuer: 'irma-demo.stemmen', counter: 0, credType: 'irma-demo.stemmen.stempas', values: ['Gemeenteraad 2026', null] },
];
const privateKeys = keys.map((k) => privateKey(k.issuer, k.counter));

describe('private keys', () => {
  it('are not used to verify any recorded disclosure or commitment, with every private key loaded', () => {
    expect(privateKeys.length).toBe(2);
    const before = privateKeyOperations();
    let verified = 0;
    for (const s of recorded.sessions) {
      const req = clientRequest(s);
      const context = b64int(req.context);
      const nonce = b64int(req.nonce);
      if (post(s, '/proofs') !== undefined && !req.message) {
        const proofs = parseProofDList(post(s, '/proofs').requestBody.proofs);
        verifyDisclosureProofs({ proofs, publicKeys: resolvePublicKeys(proofs, keyForMetadata), context, nonce });
        verified++;
      }
      if (post(s, '/commitments') !== undefined) {
        const proofs = parseProofList(post(s, '/commitments').requestBody.combinedProofs);
        const credentials = (req.credentials as { credential: string; keyCounter?: number }[]).map((c) => ({
          publicKey: publicKey(c.credential.split('.').slice(0, 2).join('.'), c.keyCounter ?? 0),
          randomBlindIndices: randomBlindIndices(c.credential),
        }));
        const ds = proofs.slice(0, proofs.length - credentials.length) as ProofD[];
        verifyIssuanceCommitments({ proofs, disclosureKeys: resolvePublicKeys(ds, keyForMetadata), credentials, context, nonce });
        verified++;
      }
    }
    expect(verified).toBeGreaterThanOrEqual(10);
    expect(privateKeyOperations()).toBe(before);
  });

  for (const k of keys) {
    it(`sign (blinded) for ${k.credType}: valid CL signature and ProofS, disclosable afterwards`, () => {
      const pk = publicKey(k.issuer, k.counter);
      const sk = privateKey(k.issuer, k.counter);
      const now = Math.floor(Date.now() / 1000);
      const attributes = [
        createMetadata({ credentialTypeId: k.credType, keyCounter: k.counter, issuedAt: now, validUntil: now + 1e6 }),
        ...k.values.map((v) => encodeAttribute(v)),
      ];
      const blind = randomBlindIndices(k.credType);
      const secretKey = generateSecretKey();
      for (let round = 0; round < 3; round++) {
        const com = createIssuanceCommitments({ secretKey, credentials: [{ publicKey: pk, randomBlindIndices: blind }], context: 1n, nonce: 5n });
        const before = privateKeyOperations();
        const msg = signCredential({ publicKey: pk, privateKey: sk, U: (com.proofs[0] as ProofU).U, attributes, randomBlindIndices: blind, nonce2: com.nonce2 });
        expect(privateKeyOperations()).toBeGreaterThan(before);
        // finishIssuance checks the ProofS and the CL signature as gabi's client does.
        const credential = finishIssuance(com.state, 0, msg, attributes);
        expect(verifyCLSignature(pk, credential.signature, credential.attributes)).toBe(true);
        const proofs = createDisclosureProofs([{ credential, publicKey: pk, disclosed: [2] }], 1n, 77n);
        expect(verifyDisclosureProofs({ proofs, publicKeys: [pk], context: 1n, nonce: 77n }).length).toBe(1);
      }
    });
  }
});
