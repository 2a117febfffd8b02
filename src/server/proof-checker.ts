// The ProofChecker on top of src/idemix (the proofs) and src/protocol (the request and the
// matching of disclosed attributes against it). Runs on the calling thread; its only I/O is the
// timestamp server's trust check of an attribute-based signature.
import { pino } from 'pino';
import { decodeAttribute, encodeAttribute, randomBlindDisplay } from '../idemix/attributes.js';
import { decodeB64 } from '../idemix/bigint.js';
import { IdemixError } from '../idemix/errors.js';
import { signCredential, verifyIssuanceCommitments } from '../idemix/issuer.js';
import type { PublicKey } from '../idemix/keys.js';
import { mergeProofP, type ProofP } from '../idemix/keyshare.js';
import { createMetadata, type Metadata } from '../idemix/metadata.js';
import { DEFAULT_SECRET_GROUP } from '../idemix/proof-list.js';
import { parseProofDList, parseProofList, serializeIssueSignatureMessage, type Proof, type ProofD } from '../idemix/proofs.js';
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
  type SessionType,
  type SignatureRequest,
} from '../protocol/requests.js';
import type { CredentialType, SchemeRegistry } from '../scheme/types.js';
import type { JsonObject, JsonValue } from '../session/session.js';
import { verifyProofPJwt } from './keyshare-proof.js';
import type { DisclosureOutcome, IssuanceOutcome, ProofChecker, SignatureOutcome, VerificationInput } from './proof-port.js';
import { createTimestampTrust, type TimestampTrust } from './timestamp-trust.js';
import { openAccumulator } from '../revocation/verify.js';
import { judgeNonRevocation, revocationIndexOf } from './nonrevocation-policy.js';

/** The part of a pino logger the checker uses. */
export interface CheckerLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface ProofCheckerOptions {
  /** Asks timestamp servers whether they trust a signature's timestamp key (default: over HTTP). */
  timestampTrust?: TimestampTrust;
  logger?: CheckerLogger;
}

interface Keyed {
  proofs: ProofD[];
  keys: PublicKey[];
  types: CredentialType[];
}

/**
 * The one timestamp server all proofs' schemes name (the reference's rule); undefined when one
 * names none or two name different ones.
 */
function commonTimestampServer(types: readonly CredentialType[], schemes: SchemeRegistry): string | undefined {
  let url: string | undefined;
  for (const t of types) {
    const tss = schemes.scheme(t.schemeId)?.timestampServer ?? '';
    if (tss === '' || (url !== undefined && url !== tss)) return undefined;
    url = tss;
  }
  return url;
}

/** The SignedMessage as stored in the result, its timestamp's ServerUrl set to the scheme's server. */
function withServerUrl(message: JsonValue, url: string): JsonValue {
  const copy = structuredClone(message) as JsonObject;
  const tsKey = Object.keys(copy).find((k) => k.toLowerCase() === 'timestamp');
  const ts = tsKey === undefined ? undefined : copy[tsKey];
  if (ts === null || ts === undefined || typeof ts !== 'object' || Array.isArray(ts)) return message;
  const urlKey = Object.keys(ts).find((k) => k.toLowerCase() === 'serverurl') ?? 'ServerUrl';
  ts[urlKey] = url;
  return copy;
}

/** Equal as the reference compares messages: as UTF-8 bytes (lone surrogates become U+FFFD in both). */
function sameText(a: string, b: string): boolean {
  return Buffer.from(a, 'utf8').equals(Buffer.from(b, 'utf8'));
}

/**
 * Parsed session requests by the stored request they came from. A session's request never changes
 * once stored, and the memory store hands every check of a session the same frozen object, so
 * the schema runs once per session instead of once per check; unfrozen objects are parsed anew.
 */
const parsedRequests = new WeakMap<object, { type: SessionType; request: SessionRequest }>();

function requestOf(type: SessionType, json: JsonObject): SessionRequest {
  const hit = parsedRequests.get(json);
  if (hit !== undefined && hit.type === type) return hit.request;
  const request = parseSessionRequestAs(type, json);
  if (Object.isFrozen(json)) parsedRequests.set(json, { type, request: frozen(request) });
  return request;
}

/** Shared between checks, so nothing may change it. */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}

export function createProofChecker(schemes: SchemeRegistry, options: ProofCheckerOptions = {}): ProofChecker {
  const trust = options.timestampTrust ?? createTimestampTrust();
  const logger: CheckerLogger = options.logger ?? pino({ level: 'warn', base: undefined });

  const distributed = (schemeId: string): boolean => (schemes.scheme(schemeId)?.keyshareServer ?? '') !== '';
  /** Secret-key groups (§7): a distributed scheme's proofs share the keyshare server's part too. */
  const groupsOf = (types: readonly CredentialType[]): string[] =>
    types.map((t) => (distributed(t.schemeId) ? t.schemeId : DEFAULT_SECRET_GROUP));

  /**
   * Merges each distributed scheme's ProofP (one JWT per scheme, checked once) into that scheme's
   * proofs, which until then prove only the holder's part of the secret key (§9).
   */
  async function withKeyshareProofs(
    proofs: Proof[],
    keys: PublicKey[],
    types: CredentialType[],
    jwts: Record<string, string> | undefined,
  ): Promise<Proof[]> {
    const proofPs = new Map<string, ProofP>();
    for (const { schemeId: id } of types) {
      if (distributed(id) && !proofPs.has(id)) {
        const jwt = jwts !== undefined && Object.hasOwn(jwts, id) ? jwts[id] : undefined;
        proofPs.set(id, await verifyProofPJwt(jwt, id, schemes));
      }
    }
    try {
      return proofs.map((p, i) => {
        const pp = proofPs.get(types[i].schemeId);
        return pp === undefined ? p : mergeProofP(p, pp, keys[i]);
      });
    } catch (err) {
      if (err instanceof IdemixError && err.code === 'INVALID_PROOF') throw new ProtocolError('INVALID_PROOFS', err.message);
      throw err;
    }
  }

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

  /**
   * Each proof's non-revocation verdict; undefined when one refers to an accumulator older than
   * the request's (the list is then INVALID).
   */
  function nonRevocation(proofs: readonly ProofD[], k: { keys: PublicKey[]; types: CredentialType[] }, request: SessionRequest, validAt: number) {
    const verdicts = proofs.map((p, i) => judgeNonRevocation(p, k.keys[i], k.types[i], request, validAt));
    return verdicts.some((v) => v.invalid) ? undefined : verdicts;
  }

  function verifiedProof(
    cred: DisclosedCredential,
    type: CredentialType,
    key: PublicKey,
    nonrev?: { notRevoked?: boolean; notRevokedBefore?: number },
  ): VerifiedProof {
    const encoding = cred.metadata.version >= 3 ? 3 : 2;
    const attributes = new Map<number, string | null>();
    for (const [index, m] of cred.disclosed) {
      if (index < 2) continue;
      const attr = type.attributes[index - 2];
      attributes.set(index, attr?.randomBlind ? randomBlindDisplay(m) : decodeAttribute(m, encoding, { strict: true }));
    }
    const out: VerifiedProof = {
      credentialTypeId: type.id,
      issuedAt: cred.metadata.signingDate,
      expiry: cred.metadata.expiry,
      keyExpired: key.expiryDate < cred.metadata.signingDate,
      attributes,
    };
    if (nonrev?.notRevoked) out.notRevoked = true;
    if (nonrev?.notRevokedBefore !== undefined) out.notRevokedBefore = nonrev.notRevokedBefore;
    return out;
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
      const request = requestOf('disclosing', input.request);
      const d = parseDisclosure(input.message);
      const k = keyed(parseProofDList(d.proofs));
      let proofs: VerifiedProof[];
      let creds: DisclosedCredential[];
      try {
        // No proofs at all is no proof to check, as in the reference: the request decides whether
        // that will do (when every disjunction is optional).
        creds =
          k.proofs.length === 0
            ? []
            : verifyDisclosureProofs({
                proofs: k.proofs,
                publicKeys: k.keys,
                context: decodeB64(request.context),
                nonce: decodeB64(request.nonce),
                groups: groupsOf(k.types),
                revocationIndices: k.types.map(revocationIndexOf),
                openAccumulator,
              });
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') return { proofStatus: 'INVALID' };
        throw err;
      }
      const nowSeconds = Math.floor(input.now / 1000);
      const nonrev = nonRevocation(k.proofs, k, request, nowSeconds);
      if (!nonrev) return { proofStatus: 'INVALID' };
      try {
        proofs = creds.map((c, i) => verifiedProof(c, k.types[i], k.keys[i], nonrev[i]));
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') return { proofStatus: 'INVALID' };
        throw err;
      }
      return outcome(check(request, input.implicitDisclosure, d.indices, proofs, nowSeconds));
    },

    async signature(input: VerificationInput): Promise<SignatureOutcome> {
      const request = requestOf('signing', input.request) as SignatureRequest;
      const signed = parseIdemixSignedMessage(input.message);
      const indices = signatureDisclosure(parseSignedMessage(input.message)).indices;
      let signature = input.message;
      // The reference's order: no proofs is INVALID; another nonce, context or message (all three
      // go into the signature's nonce) is UNMATCHED_REQUEST, before any cryptography.
      if (signed.proofs.length === 0) return { proofStatus: 'INVALID', signature };
      if (
        signed.nonce !== decodeB64(request.nonce) ||
        signed.context !== decodeB64(request.context) ||
        !sameText(signed.message, request.message)
      ) {
        return { proofStatus: 'UNMATCHED_REQUEST', signature };
      }
      const k = keyed(signed.proofs);
      const attributeCounts = k.types.map((t) => t.attributes.length);
      const ts = signed.timestamp;
      if (ts) {
        let T: Buffer;
        try {
          T = timestampMessage({
            randomizedA: signed.proofs.map((p) => p.A),
            message: request.message,
            disclosed: signed.proofs.map((p) => p.aDisclosed),
            version: signed.version,
            publicKeys: k.keys,
            attributeCounts,
          });
        } catch (err) {
          // The reference cannot form the timestamp message either, and calls the timestamp invalid.
          if (err instanceof IdemixError && err.code === 'MALFORMED') return { proofStatus: 'INVALID_TIMESTAMP', signature };
          throw err;
        }
        // The timestamp's own ServerUrl is not trusted: the schemes say which server vouches.
        const url = commonTimestampServer(k.types, schemes);
        if (url === undefined) return { proofStatus: 'INVALID_TIMESTAMP', signature };
        signature = withServerUrl(signature, url);
        if (!verifyTimestampSignature(ts, T)) return { proofStatus: 'INVALID_TIMESTAMP', signature };
        const verdict = await trust.check(url, ts.publicKey, ts.time);
        if (!verdict.trusted) {
          if (verdict.reason === 'unreachable') {
            logger.warn({ timestampServer: url, detail: verdict.detail }, 'timestamp server unreachable: signature judged INVALID_TIMESTAMP');
          }
          return { proofStatus: 'INVALID_TIMESTAMP', signature };
        }
      }
      let verified;
      try {
        verified = verifySignedMessage({
          signed,
          publicKeys: k.keys,
          attributeCounts,
          groups: groupsOf(k.types),
          request: { nonce: signed.nonce, context: signed.context, message: request.message },
          revocationIndices: k.types.map(revocationIndexOf),
          openAccumulator,
        });
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') return { proofStatus: 'INVALID', signature };
        throw err;
      }
      // A signature is judged at the moment it was timestamped, when it has a timestamp.
      const at = verified.timestamp?.time ?? Math.floor(input.now / 1000);
      const nonrev = nonRevocation(k.proofs, k, request, at);
      if (!nonrev) return { proofStatus: 'INVALID', signature };
      let proofs: VerifiedProof[];
      try {
        // Disclosed values that do not decode (not UTF-8) make the proof INVALID.
        proofs = verified.credentials.map((c, i) => verifiedProof(c, k.types[i], k.keys[i], nonrev[i]));
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') return { proofStatus: 'INVALID', signature };
        throw err;
      }
      return Object.assign(outcome(check(request, input.implicitDisclosure, indices, proofs, at)), { signature });
    },

    async issuance(input: VerificationInput): Promise<IssuanceOutcome> {
      const request = requestOf('issuing', input.request) as IssuanceRequest;
      const message = parseIssueCommitmentMessage(input.message);
      const { disclosure } = splitCommitments(message, request.credentials.length);
      const nowSeconds = Math.floor(input.now / 1000);

      const targets = request.credentials.map((c) => {
        const type = schemes.credentialType(c.credential);
        const counter = c.keyCounter ?? 0;
        const publicKey = type ? schemes.publicKey(type.issuerId, counter) : undefined;
        const privateKey = type ? schemes.privateKey(type.issuerId, counter) : undefined;
        if (!type || !publicKey || !privateKey) throw new ProtocolError('ISSUANCE_FAILED', `cannot issue ${c.credential}`);
        const randomBlindIndices = type.attributes.filter((a) => a.randomBlind).map((a) => a.index + 2);
        return { request: c, type, publicKey, privateKey, randomBlindIndices };
      });

      const received = parseProofList(message.combinedProofs);
      const ds = received.slice(0, disclosure.proofs.length);
      if (!ds.every((p): p is ProofD => p.kind === 'ProofD')) {
        throw new ProtocolError('MALFORMED_INPUT', 'Received invalid issuance commitment');
      }
      const k = keyed(ds);
      const types = [...k.types, ...targets.map((t) => t.type)];
      const proofs = await withKeyshareProofs(received, [...k.keys, ...targets.map((t) => t.publicKey)], types, message.proofPJwts);
      let verified;
      try {
        verified = verifyIssuanceCommitments({
          proofs,
          groups: groupsOf(types),
          disclosureKeys: k.keys,
          credentials: targets.map((t) => ({ publicKey: t.publicKey, randomBlindIndices: t.randomBlindIndices })),
          context: decodeB64(request.context),
          nonce: decodeB64(request.nonce),
          revocationIndices: k.types.map(revocationIndexOf),
          openAccumulator,
        });
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'MALFORMED') {
          throw new ProtocolError('MALFORMED_INPUT', 'Received invalid issuance commitment');
        }
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') throw new ProtocolError('INVALID_PROOFS');
        throw err;
      }
      const issuanceNonrev = nonRevocation(ds, k, request, nowSeconds);
      if (!issuanceNonrev) throw new ProtocolError('INVALID_PROOFS');
      let disclosedProofs: VerifiedProof[];
      try {
        disclosedProofs = verified.disclosed.map((c, i) => verifiedProof(c, k.types[i], k.keys[i], issuanceNonrev[i]));
      } catch (err) {
        if (err instanceof IdemixError && err.code === 'INVALID_PROOF') throw new ProtocolError('INVALID_PROOFS');
        throw err;
      }
      const checked = check(request, input.implicitDisclosure, disclosure.indices, disclosedProofs, nowSeconds);
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
          const w = t.type.revocationSupported ? input.witnesses?.[i] : undefined;
          if (t.type.revocationSupported && !w) throw new ProtocolError('ISSUANCE_FAILED', `no revocation witness for ${t.type.id}`);
          const revocationE = w ? decodeB64(w.e) : 0n;
          const attributes = [
            metadata,
            ...t.type.attributes.map((a) =>
              a.revocation ? revocationE : a.randomBlind ? 0n : encodeAttribute(t.request.attributes[a.shortId] ?? null),
            ),
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
          if (w) sig.nonrev = { u: decodeB64(w.u), e: revocationE, sacc: { data: Buffer.from(w.sacc.data, 'base64'), pk: w.sacc.pk } };
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
