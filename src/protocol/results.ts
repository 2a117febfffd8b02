// Session results (spec §7.7) and the claims of the JWTs that carry them (§3.4). The server
// signs; this module only decides what goes in.
import { z } from 'zod';
import { remoteErrorSchema, type RemoteError } from './errors.js';
import type { SessionType, TranslatedString } from './requests.js';
import { signedMessageSchema, signedMessageToJson, type SignedMessage } from './proof-messages.js';

export const SERVER_STATUSES = ['INITIALIZED', 'PAIRING', 'CONNECTED', 'DONE', 'CANCELLED', 'TIMEOUT'] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];

export function isFinalStatus(status: ServerStatus): boolean {
  return status === 'DONE' || status === 'CANCELLED' || status === 'TIMEOUT';
}

export const PROOF_STATUSES = [
  'VALID',
  'INVALID',
  'INVALID_TIMESTAMP',
  'UNMATCHED_REQUEST',
  'MISSING_ATTRIBUTES',
  'EXPIRED',
] as const;
export type ProofStatus = (typeof PROOF_STATUSES)[number];

export type AttributeProofStatus = 'PRESENT' | 'EXTRA' | 'NULL';

export interface DisclosedAttribute {
  rawvalue: string | null;
  /** {"": v, "en": v, "nl": v}, or null with a null rawvalue. */
  value: TranslatedString | null;
  id: string;
  status: AttributeProofStatus;
  /** Unix s, a multiple of 604800 (the credential's signing week). */
  issuancetime: number;
  notrevoked?: boolean;
  /** Unix s: the accumulator was older than the tolerance allows. */
  notrevokedbefore?: number;
}

/** Per outer conjunction of the request; null where unsatisfied, [] for a chosen empty option. */
export type DisclosedAttributes = (DisclosedAttribute[] | null)[];

export interface SessionResult {
  token: string;
  status: ServerStatus;
  type: SessionType;
  proofStatus?: ProofStatus;
  disclosed?: DisclosedAttributes;
  signature?: SignedMessage;
  error?: RemoteError;
  /** Requestor token of the chained session started after this one. */
  nextSession?: string;
}

/** The translation map the reference gives every disclosed value. */
export function translatedValue(raw: string | null): TranslatedString | null {
  return raw === null ? null : { '': raw, en: raw, nl: raw };
}

function disclosedAttributeToJson(a: DisclosedAttribute): Record<string, unknown> {
  const out: Record<string, unknown> = {
    rawvalue: a.rawvalue,
    value: a.value,
    id: a.id,
    status: a.status,
    issuancetime: a.issuancetime,
  };
  if (a.notrevoked) out.notrevoked = true;
  if (a.notrevokedbefore !== undefined) out.notrevokedbefore = a.notrevokedbefore;
  return out;
}

/**
 * The /result body, members in the reference's order and empty ones left out. Sessions started
 * from a pre-condiscon request get the legacy shape: `disclosed` flat, first attribute of each list.
 */
export function sessionResultToJson(r: SessionResult, opts: { legacy?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { token: r.token, status: r.status, type: r.type };
  if (r.proofStatus) out.proofStatus = r.proofStatus;
  if (r.disclosed && r.disclosed.length > 0) {
    out.disclosed = opts.legacy
      ? r.disclosed.flatMap((l) => (l && l.length > 0 ? [disclosedAttributeToJson(l[0])] : []))
      : r.disclosed.map((l) => (l === null ? null : l.map(disclosedAttributeToJson)));
  }
  if (r.signature) out.signature = signedMessageToJson(r.signature);
  if (r.error) out.error = r.error;
  if (!opts.legacy && r.nextSession) out.nextSession = r.nextSession;
  return out;
}

const disclosedAttributeSchema = z.object({
  rawvalue: z.string().nullable(),
  value: z.record(z.string(), z.string()).nullable(),
  id: z.string(),
  status: z.enum(['PRESENT', 'EXTRA', 'NULL']),
  issuancetime: z.number().int(),
  notrevoked: z.boolean().optional(),
  notrevokedbefore: z.number().int().optional(),
});

/** A /result body as a requestor (or our client) reads it. */
export const sessionResultSchema = z.object({
  token: z.string(),
  status: z.enum(SERVER_STATUSES),
  type: z.enum(['disclosing', 'signing', 'issuing']),
  proofStatus: z.enum(PROOF_STATUSES).optional(),
  disclosed: z.array(z.array(disclosedAttributeSchema).nullable()).optional(),
  signature: signedMessageSchema.optional(),
  error: remoteErrorSchema.optional(),
  nextSession: z.string().optional(),
});

export interface ResultJwtOptions {
  /** jwt_issuer; left out when empty. */
  issuer?: string;
  /** Unix s. */
  now: number;
  /** The request's `validity` (s). */
  validity: number;
  legacy?: boolean;
}

/**
 * Claims of /result-jwt, callbacks and next-session POSTs: the SessionResult members at top
 * level after the standard claims, `sub` = `<type>_result`.
 */
export function resultJwtClaims(r: SessionResult, opts: ResultJwtOptions): Record<string, unknown> {
  const claims: Record<string, unknown> = { exp: opts.now + opts.validity, iat: opts.now };
  if (opts.issuer) claims.iss = opts.issuer;
  claims.sub = `${r.type}_result`;
  return { ...claims, ...sessionResultToJson(r, { legacy: opts.legacy }) };
}

const PROOF_JWT_SUBJECTS: Record<SessionType, string> = {
  disclosing: 'disclosure_result',
  signing: 'abs_result',
  issuing: 'issue_result',
};

/**
 * Claims of /getproof (irma_api_server-compatible): every disclosed attribute, EXTRA ones
 * included, as id -> raw value ("" for null), and the proof status ("" when none yet).
 */
export function proofJwtClaims(r: SessionResult, opts: Omit<ResultJwtOptions, 'legacy'>): Record<string, unknown> {
  const attributes: Record<string, string> = {};
  for (const list of r.disclosed ?? []) for (const a of list ?? []) attributes[a.id] = a.rawvalue ?? '';
  const claims: Record<string, unknown> = {
    attributes: Object.fromEntries(Object.keys(attributes).sort().map((k) => [k, attributes[k]])),
  };
  if (opts.validity !== 0) claims.exp = opts.now + opts.validity;
  claims.iat = opts.now;
  if (opts.issuer) claims.iss = opts.issuer;
  if (r.signature) claims.signature = signedMessageToJson(r.signature);
  claims.status = r.proofStatus ?? '';
  claims.sub = PROOF_JWT_SUBJECTS[r.type];
  return claims;
}
