// What the app POSTs with its proofs (spec §7.6): Disclosure, SignedMessage and
// IssueCommitmentMessage. Only the envelopes are checked here; the proofs inside stay opaque
// JSON for the idemix layer to parse. Failures are MALFORMED_INPUT (the session stays as it was).
import { z } from 'zod';
import { decodeB64, encodeB64 } from '../idemix/bigint.js';
import { IdemixError } from '../idemix/errors.js';
import { describeZodError, goInt, goObject, goRecord, goUint } from './decode.js';
import { ProtocolError } from './errors.js';

export const SIGNED_MESSAGE_LD_CONTEXT = 'https://irma.app/ld/signature/v2';

/** Where the attributes for one outer conjunction are: proof number, gabi attribute index. */
export interface DisclosedAttributeIndex {
  cred: number;
  attr: number;
}

export interface Disclosure {
  proofs: unknown[];
  indices: DisclosedAttributeIndex[][];
}

/** An atum timestamp of an attribute-based signature. */
export interface Timestamp {
  Time: number;
  ServerUrl: string;
  Sig: { Alg: string; Data: string; PublicKey: string };
}

export interface SignedMessage {
  '@context': string;
  signature: unknown[];
  indices: DisclosedAttributeIndex[][];
  /** Base64 big integers. */
  nonce: string;
  context: string;
  message: string;
  timestamp: Timestamp | null;
}

export interface IssueCommitmentMessage {
  /** Legacy single commitment. */
  U?: string;
  n_2: string;
  /** Disclosure proofs first, then one ProofU per credential in request order. */
  combinedProofs: unknown[];
  /** Legacy single keyshare proof. */
  proofPJwt?: string;
  /** Scheme id -> keyshare server JWT. */
  proofPJwts?: Record<string, string>;
  indices?: DisclosedAttributeIndex[][];
  /** JWKs for SD-JWT VC key binding; absent means no SD-JWTs. */
  keybinding_pub_keys?: Record<string, unknown>[];
}

function bigIntJson(what: string) {
  return z.unknown().transform((v, ctx) => {
    try {
      return encodeB64(decodeB64(v, what));
    } catch (e) {
      if (!(e instanceof IdemixError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message });
      return z.NEVER;
    }
  });
}

const B64_BYTES = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const bytesJson = z
  .string()
  .refine((s) => B64_BYTES.test(s), { message: 'expected base64' })
  .transform((s) => Buffer.from(s, 'base64').toString('base64'));

const indexSchema = goObject({ cred: goUint, attr: goUint });
const indicesSchema = z.array(z.array(indexSchema).nullable().transform((l) => l ?? []));

const proofListSchema = z.array(z.unknown());

const disclosureSchema = goObject({
  proofs: proofListSchema.default([]),
  indices: indicesSchema.default([]),
});

const timestampSchema = goObject({
  Time: goInt,
  ServerUrl: z.string().default(''),
  Sig: goObject({ Alg: z.string().default(''), Data: bytesJson.default(''), PublicKey: bytesJson.default('') }),
});

export const signedMessageSchema = goObject({
  '@context': z.string().default(''),
  signature: proofListSchema.default([]),
  indices: indicesSchema.default([]),
  nonce: bigIntJson('nonce').default(''),
  context: bigIntJson('context').default(''),
  message: z.string().default(''),
  timestamp: timestampSchema.optional(),
}).transform((m): SignedMessage => Object.assign(m, { timestamp: m.timestamp ?? null }));

const issueCommitmentSchema = goObject({
  U: bigIntJson('U').optional(),
  n_2: bigIntJson('n_2'),
  combinedProofs: proofListSchema.default([]),
  proofPJwt: z.string().optional(),
  proofPJwts: goRecord(z.string()).optional(),
  indices: indicesSchema.optional(),
  keybinding_pub_keys: z.array(goRecord(z.unknown())).optional(),
});

function parseWith<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new ProtocolError('MALFORMED_INPUT', describeZodError(r.error));
  return r.data;
}

/**
 * Messages parsed before, by the app's parsed JSON. The server parses a message once to validate
 * it and again to check its proofs; on the same thread that is the same object, and neither it
 * nor what parsing made of it is changed afterwards.
 */
const parsedDisclosures = new WeakMap<object, Disclosure>();
const parsedSignedMessages = new WeakMap<object, SignedMessage>();

function parseOnce<T>(schema: z.ZodType<T>, parsed: WeakMap<object, T>, input: unknown): T {
  if (input === null || typeof input !== 'object') return parseWith(schema, input);
  const hit = parsed.get(input);
  if (hit !== undefined) return hit;
  const value = parseWith(schema, input);
  parsed.set(input, value);
  return value;
}

export function parseDisclosure(input: unknown): Disclosure {
  return parseOnce(disclosureSchema, parsedDisclosures, input);
}

export function parseSignedMessage(input: unknown): SignedMessage {
  return parseOnce(signedMessageSchema, parsedSignedMessages, input);
}

export function parseIssueCommitmentMessage(input: unknown): IssueCommitmentMessage {
  const m = parseWith(issueCommitmentSchema, input);
  const out: IssueCommitmentMessage = { n_2: m.n_2, combinedProofs: m.combinedProofs };
  if (m.U !== undefined) out.U = m.U;
  if (m.proofPJwt) out.proofPJwt = m.proofPJwt;
  if (m.proofPJwts && Object.keys(m.proofPJwts).length > 0) out.proofPJwts = m.proofPJwts;
  if (m.indices && m.indices.length > 0) out.indices = m.indices;
  if (m.keybinding_pub_keys && m.keybinding_pub_keys.length > 0) out.keybinding_pub_keys = m.keybinding_pub_keys;
  return out;
}

/** The disclosure inside an attribute-based signature. */
export function signatureDisclosure(m: SignedMessage): Disclosure {
  return { proofs: m.signature, indices: m.indices };
}

/**
 * An issuance message split into its disclosure (the leading proofs) and one commitment per
 * credential. Fewer proofs than credentials -> MALFORMED_INPUT `Received insufficient proofs`.
 */
export function splitCommitments(
  m: IssueCommitmentMessage,
  credentialCount: number,
): { disclosure: Disclosure; commitments: unknown[] } {
  const discloseCount = m.combinedProofs.length - credentialCount;
  if (discloseCount < 0) throw new ProtocolError('MALFORMED_INPUT', 'Received insufficient proofs');
  return {
    disclosure: { proofs: m.combinedProofs.slice(0, discloseCount), indices: m.indices ?? [] },
    commitments: m.combinedProofs.slice(discloseCount),
  };
}

export function signedMessageToJson(m: SignedMessage): Record<string, unknown> {
  return {
    '@context': m['@context'],
    signature: m.signature,
    indices: m.indices.map((l) => l.map((i) => ({ cred: i.cred, attr: i.attr }))),
    nonce: m.nonce,
    context: m.context,
    message: m.message,
    timestamp: m.timestamp && {
      Time: m.timestamp.Time,
      ServerUrl: m.timestamp.ServerUrl,
      Sig: { Alg: m.timestamp.Sig.Alg, Data: m.timestamp.Sig.Data, PublicKey: m.timestamp.Sig.PublicKey },
    },
  };
}

export function disclosureToJson(d: Disclosure): Record<string, unknown> {
  return { proofs: d.proofs, indices: d.indices.map((l) => l.map((i) => ({ cred: i.cred, attr: i.attr }))) };
}

export function issueCommitmentMessageToJson(m: IssueCommitmentMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.U !== undefined) out.U = m.U;
  out.n_2 = m.n_2;
  out.combinedProofs = m.combinedProofs;
  if (m.proofPJwt) out.proofPJwt = m.proofPJwt;
  if (m.proofPJwts) out.proofPJwts = m.proofPJwts;
  if (m.indices) out.indices = m.indices.map((l) => l.map((i) => ({ cred: i.cred, attr: i.attr })));
  if (m.keybinding_pub_keys) out.keybinding_pub_keys = m.keybinding_pub_keys;
  return out;
}
