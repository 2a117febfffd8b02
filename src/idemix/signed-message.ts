// Attribute-based signatures (irmago's SignedMessage): parsing, and verification of the proofs
// under N_sig together with the timestamp signature they embed.
import { decodeB64 } from './bigint.js';
import { IdemixError } from './errors.js';
import { fields, present } from './json-object.js';
import type { PublicKey } from './keys.js';
import { parseProofDList, type ProofD } from './proofs.js';
import { signatureNonce } from './signature-nonce.js';
import { timestampMessage, verifyTimestampSignature, type TimestampSignature } from './timestamp.js';
import { verifyDisclosureProofs, type DisclosedCredential } from './verifier.js';
import type { AccumulatorOpener } from './proof-list.js';

export interface Timestamp extends TimestampSignature {
  serverUrl: string;
}

export interface SignedMessage {
  /** 2 when "@context" is present, else the legacy 1 (changes the timestamp layout). */
  version: 1 | 2;
  proofs: ProofD[];
  /** The raw server nonce (not N_sig). */
  nonce: bigint;
  context: bigint;
  message: string;
  timestamp: Timestamp | null;
}

function bytes(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
    throw new IdemixError('MALFORMED', `${what} is not base64`);
  }
  return Buffer.from(v, 'base64');
}

function parseTimestamp(v: unknown): Timestamp | null {
  if (v === undefined || v === null) return null;
  const f = fields(v, 'timestamp');
  const time = f.get('time');
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) {
    throw new IdemixError('MALFORMED', 'timestamp.Time must be a non-negative integer');
  }
  const url = f.get('serverurl') ?? '';
  if (typeof url !== 'string') throw new IdemixError('MALFORMED', 'timestamp.ServerUrl must be a string');
  const sig = fields(f.get('sig'), 'timestamp.Sig');
  const alg = sig.get('alg');
  if (typeof alg !== 'string') throw new IdemixError('MALFORMED', 'timestamp.Sig.Alg must be a string');
  return {
    time,
    serverUrl: url,
    alg,
    data: bytes(sig.get('data'), 'timestamp.Sig.Data'),
    publicKey: bytes(sig.get('publickey'), 'timestamp.Sig.PublicKey'),
  };
}

export function parseSignedMessage(json: unknown): SignedMessage {
  const f = fields(json, 'SignedMessage');
  const message = f.get('message');
  if (typeof message !== 'string') throw new IdemixError('MALFORMED', 'SignedMessage.message must be a string');
  return {
    version: present(f, '@context') ? 2 : 1,
    proofs: parseProofDList(f.get('signature') ?? null),
    nonce: present(f, 'nonce') ? decodeB64(f.get('nonce'), 'nonce') : 0n,
    context: present(f, 'context') ? decodeB64(f.get('context'), 'context') : 1n,
    message,
    timestamp: parseTimestamp(f.get('timestamp')),
  };
}

export interface SignedMessageVerification {
  signed: SignedMessage;
  publicKeys: readonly PublicKey[];
  groups?: readonly string[];
  /** Needed for version-1 timestamps: number of attribute types of each proof's credential type. */
  attributeCounts?: readonly number[];
  /** The signature request, when the verifier issued one: its nonce, context and message must match. */
  request?: { nonce: bigint; context: bigint; message: string };
  revocationIndices?: readonly (number | undefined)[];
  openAccumulator?: AccumulatorOpener;
}

export interface VerifiedSignedMessage {
  credentials: DisclosedCredential[];
  message: string;
  /**
   * The timestamp, its signature already checked against the proofs. Still to do by the caller:
   * replace serverUrl by the schemes' timestamp server and ask it whether publicKey is trusted.
   */
  timestamp: Timestamp | null;
}

/** Throws INVALID_PROOF unless the proofs and the timestamp signature verify. */
export function verifySignedMessage(v: SignedMessageVerification): VerifiedSignedMessage {
  const sm = v.signed;
  if (sm.proofs.length === 0) throw new IdemixError('INVALID_PROOF', 'signature without proofs');
  const tsData = sm.timestamp?.data ?? null;
  let message = sm.message;
  if (v.request) {
    if (v.request.context !== sm.context) throw new IdemixError('INVALID_PROOF', 'context differs from the request');
    if (signatureNonce(v.request.nonce, v.request.message, tsData) !== signatureNonce(sm.nonce, sm.message, tsData)) {
      throw new IdemixError('INVALID_PROOF', 'nonce or message differs from the request');
    }
    message = v.request.message;
  }
  if (sm.timestamp) {
    const T = timestampMessage({
      randomizedA: sm.proofs.map((p) => p.A),
      message,
      disclosed: sm.proofs.map((p) => p.aDisclosed),
      version: sm.version,
      publicKeys: v.publicKeys,
      attributeCounts: v.attributeCounts,
    });
    if (!verifyTimestampSignature(sm.timestamp, T)) throw new IdemixError('INVALID_PROOF', 'timestamp signature invalid');
  }
  const credentials = verifyDisclosureProofs({
    proofs: sm.proofs,
    publicKeys: v.publicKeys,
    context: sm.context,
    nonce: signatureNonce(sm.nonce, message, tsData),
    sig: true,
    groups: v.groups,
    revocationIndices: v.revocationIndices,
    openAccumulator: v.openAccumulator,
  });
  return { credentials, message, timestamp: sm.timestamp };
}
