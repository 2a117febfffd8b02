// The ProofChecker on top of src/idemix (the proofs) and src/protocol (the request and the
// matching of disclosed attributes against it). Runs on the calling thread.
import { decodeAttribute, encodeAttribute, randomBlindDisplay } from '../idemix/attributes.js';
import { decodeB64 } from '../idemix/bigint.js';
import { IdemixError } from '../idemix/errors.js';
import { signCredential, verifyIssuanceCommitments } from '../idemix/issuer.js';
import type { PublicKey } from '../idemix/keys.js';
import { createMetadata, type Metadata } from '../idemix/metadata.js';
import { parseProofDList, parseProofList, serializeIssueSignatureMessage, type ProofD } from '../idemix/proofs.js';
import { parseSignedMessage as parseIdemixSignedMessage, verifySignedMessage } from '../idemix/signed-message.js';
import { timestampMessage, verifyTimestampSignature } from '../idemix/timestamp.js';
import { proofMetadata, resolvePublicKeys, verifyDisclosureProofs, type DisclosedCredential } from '../idemix/verifier.js';
import { withImplicitDisclosure } from '../protocol/chaining.js';
import { conDisConSchema, type AttributeConDisCon } from '../protocol/condiscon.js';
import { checkDisclosure, type DisclosureCheckResult, type VerifiedProof } from '../protocol/disclosure-check.js';
import { ProtocolError } from '../protocol/errors.js';
import {
  parseDisclosure,
  parseIssueCommitmentMessage,
  parseSignedMessage,
  signatureDisclosure,
  splitCommitments,
  type DisclosedAttributeIndex,
} from '../protocol/proof-messages.js';
import {
  parseSessionRequestAs,
  type IssuanceRequest,
  type SessionRequest,
  type SignatureRequest,
} from '../protocol/requests.js';
import type { CredentialType, SchemeRegistry } from '../scheme/types.js';
import type { JsonValue } from '../session/session.js';
import type { DisclosureOutcome, IssuanceOutcome, ProofChecker, SignatureOutcome, VerificationInput } from './proof-port.js';

interface Keyed {
  proofs: ProofD[];
  keys: PublicKey[];
  types: CredentialType[];
}

export function createProofChecker(schemes: SchemeRegistry): ProofChecker {
  function typeOf(meta: Metadata): CredentialType | undefined {
    return schemes.credentialTypeByHash(meta.credentialTypeHashHex);
  }

  function keyed(proofs: ProofD[]): Keyed {
    const keys = resolvePublicKeys(proofs, (meta) => {
      const type = typeOf(meta);
      return type ? schemes.publicKey(type.issuerId, meta.keyCounter) : undefined;
    });
    // resolvePublicKeys found a key for every proof, so every type is known.
    const types = proofs.map((p) => typeOf(proofMetadata(p))!);
    return { proofs, keys, types };
  }

  function verifiedProof(cred: DisclosedCredential, type: CredentialType, key: PublicKey): VerifiedProof {
    const encoding = cred.metadata.version >= 3 ? 3 : 2;
    const attributes = new Map<number, string | null>();
    for (const [index, m] of cred.disclosed) {
      if (index < 2) continue;
      const attr = type.attributes[index - 2];
      attributes.set(index, attr?.randomBlind ? randomBlindDisplay(m) : decodeAttribute(m, encoding));
    }
    return {
      credentialTypeId: type.id,
      issuedAt: cred.metadata.signingDate,
      expiry: cred.metadata.expiry,
      keyExpired: key.expiryDate < cred.metadata.signingDate,
      attributes,
    };
  }

  function check(
    request: SessionRequest,
    implicit: JsonValue[] | undefined,
    indices: DisclosedAttributeIndex[][],
    proofs: VerifiedProof[],
    nowSeconds: number,
  ): DisclosureCheckResult {
    const implied: AttributeConDisCon = implicit ? conDisConSchema.parse(implicit) : [];
    return checkDisclosure({
      condiscon: withImplicitDisclosure(request.disclose, implied),
      indices,
      proofs,
      schemes,
      now: nowSeconds,
      skipExpiryCheck: request.skipExpiryCheck,
      revocation: Object.keys(request.revocation ?? {}),
    });
  }

  const outcome = (r: DisclosureCheckResult): DisclosureOutcome =>
    r.disclosed === undefined
      ? { proofStatus: r.proofStatus }
      : { proofStatus: r.proofStatus, disclosed: r.disclosed as unknown as JsonValue[] };

  return {
    async disclosure(input: VerificationInput): Promise<DisclosureOutcome> {
      const request = parseSessionRequestAs('disclosing', input.request);
      const d = parseDisclosure(input.message);
      const k = keyed(parseProofDList(d.proofs));
      let creds: DisclosedCredential[];
      try {
        creds = verifyDisclosureProofs({
          proofs: k.proofs,
          publicKeys: k.keys,
          context: decodeB64(request.context),
          nonce: decodeB64(request.nonce),
        });
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') return { proofStatus: 'INVALID' };
        throw err;
      }
      const proofs = creds.map((c, i) => verifiedProof(c, k.types[i], k.keys[i]));
      return outcome(check(request, input.implicitDisclosure, d.indices, proofs, Math.floor(input.now / 1000)));
    },

    async signature(input: VerificationInput): Promise<SignatureOutcome> {
      const request = parseSessionRequestAs('signing', input.request) as SignatureRequest;
      const signed = parseIdemixSignedMessage(input.message);
      const indices = signatureDisclosure(parseSignedMessage(input.message)).indices;
      const signature = input.message;
      if (signed.nonce !== decodeB64(request.nonce) || signed.context !== decodeB64(request.context)) {
        return { proofStatus: 'UNMATCHED_REQUEST', signature };
      }
      const k = keyed(signed.proofs);
      const attributeCounts = k.types.map((t) => t.attributes.length);
      if (signed.timestamp) {
        const T = timestampMessage({
          randomizedA: signed.proofs.map((p) => p.A),
          message: request.message,
          disclosed: signed.proofs.map((p) => p.aDisclosed),
          version: signed.version,
          publicKeys: k.keys,
          attributeCounts,
        });
        if (!verifyTimestampSignature(signed.timestamp, T)) return { proofStatus: 'INVALID_TIMESTAMP', signature };
      }
      let verified;
      try {
        verified = verifySignedMessage({
          signed,
          publicKeys: k.keys,
          attributeCounts,
          request: { nonce: signed.nonce, context: signed.context, message: request.message },
        });
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') return { proofStatus: 'INVALID', signature };
        throw err;
      }
      const proofs = verified.credentials.map((c, i) => verifiedProof(c, k.types[i], k.keys[i]));
      // A signature is judged at the moment it was timestamped, when it has a timestamp.
      const at = verified.timestamp?.time ?? Math.floor(input.now / 1000);
      return { ...outcome(check(request, input.implicitDisclosure, indices, proofs, at)), signature };
    },

    async issuance(input: VerificationInput): Promise<IssuanceOutcome> {
      const request = parseSessionRequestAs('issuing', input.request) as IssuanceRequest;
      const message = parseIssueCommitmentMessage(input.message);
      const { disclosure } = splitCommitments(message, request.credentials.length);
      const nowSeconds = Math.floor(input.now / 1000);

      const targets = request.credentials.map((c) => {
        const type = schemes.credentialType(c.credential);
        const counter = c.keyCounter ?? 0;
        const publicKey = type ? schemes.publicKey(type.issuerId, counter) : undefined;
        const privateKey = type ? schemes.privateKey(type.issuerId, counter) : undefined;
        if (!type || !publicKey || !privateKey) throw new ProtocolError('ISSUANCE_FAILED', `cannot issue ${c.credential}`);
        if (schemes.scheme(type.schemeId)?.keyshareServer) {
          throw new ProtocolError('KEYSHARE_PROOF_MISSING', 'keyshare-protected credentials are not supported');
        }
        const randomBlindIndices = type.attributes.filter((a) => a.randomBlind).map((a) => a.index + 2);
        return { request: c, type, publicKey, privateKey, randomBlindIndices };
      });

      const proofs = parseProofList(message.combinedProofs);
      const ds = proofs.slice(0, disclosure.proofs.length);
      if (!ds.every((p): p is ProofD => p.kind === 'ProofD')) {
        throw new ProtocolError('MALFORMED_INPUT', 'Received invalid issuance commitment');
      }
      const k = keyed(ds);
      let verified;
      try {
        verified = verifyIssuanceCommitments({
          proofs,
          disclosureKeys: k.keys,
          credentials: targets.map((t) => ({ publicKey: t.publicKey, randomBlindIndices: t.randomBlindIndices })),
          context: decodeB64(request.context),
          nonce: decodeB64(request.nonce),
        });
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'MALFORMED') {
          throw new ProtocolError('MALFORMED_INPUT', 'Received invalid issuance commitment');
        }
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') throw new ProtocolError('INVALID_PROOFS');
        throw err;
      }
      const checked = check(
        request,
        input.implicitDisclosure,
        disclosure.indices,
        verified.disclosed.map((c, i) => verifiedProof(c, k.types[i], k.keys[i])),
        nowSeconds,
      );
      if (checked.proofStatus === 'EXPIRED') throw new ProtocolError('ATTRIBUTES_EXPIRED');
      if (checked.proofStatus !== 'VALID') throw new ProtocolError('INVALID_PROOFS');

      const nonce2 = decodeB64(message.n_2, 'n_2');
      let sigs: JsonValue[];
      try {
        sigs = targets.map((t, i) => {
          const metadata = createMetadata({
            credentialTypeId: t.type.id,
            keyCounter: t.publicKey.counter,
            issuedAt: nowSeconds,
            validUntil: t.request.validity ?? nowSeconds,
          });
          const attributes = [
            metadata,
            ...t.type.attributes.map((a) => (a.randomBlind ? 0n : encodeAttribute(t.request.attributes[a.shortId] ?? null))),
          ];
          const sig = signCredential({
            publicKey: t.publicKey,
            privateKey: t.privateKey,
            U: verified.commitments[i],
            attributes,
            randomBlindIndices: t.randomBlindIndices,
            nonce2,
            context: 1n,
          });
          return serializeIssueSignatureMessage(sig) as unknown as JsonValue;
        });
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') throw new ProtocolError('INVALID_PROOFS');
        throw new ProtocolError('ISSUANCE_FAILED', err instanceof IdemixError ? err.message : '');
      }
      const result = outcome(checked);
      return { proofStatus: 'VALID', disclosed: result.disclosed ?? [], sigs };
    },
  };
}
