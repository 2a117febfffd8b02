// What the client accepts from a server, checked strictly at the edge: the session pointer,
// the ClientSessionRequest answering the first GET, the bare session requests (disclosure,
// signature, issuance) and the ServerSessionResponse to our proofs or commitments.
import { z } from 'zod';
import { decodeB64 } from '../idemix/bigint.js';
import { IdemixError } from '../idemix/errors.js';
import { ClientError } from './errors.js';

export type SessionType = 'disclosing' | 'signing' | 'issuing';

export const CONTEXT = {
  client: 'https://irma.app/ld/request/client/v1',
  options: 'https://irma.app/ld/options/v1',
  disclosing: 'https://irma.app/ld/request/disclosure/v2',
  signing: 'https://irma.app/ld/request/signature/v2',
  issuing: 'https://irma.app/ld/request/issuance/v2',
  signature: 'https://irma.app/ld/signature/v2',
} as const;

const httpUrl = z.string().refine((u) => {
  try {
    const p = new URL(u).protocol;
    return p === 'http:' || p === 'https:';
  } catch {
    return false;
  }
}, 'not an http(s) URL');

const qrSchema = z.object({
  u: httpUrl,
  irmaqr: z.enum(['disclosing', 'signing', 'issuing', 'redirect']),
});
export type Qr = z.infer<typeof qrSchema>;

export interface AttributeRequest {
  type: string;
  value?: string | null;
  notNull?: boolean;
}
/** AND-list of disjunctions, each an OR-list of inner conjunctions (AND-lists of attributes). */
export type Condiscon = AttributeRequest[][][];

const identifier = z.string().regex(/^[^.\s]+(\.[^.\s]+){2,3}$/, 'not a credential type or attribute identifier');
const attributeRequestSchema = z.union([
  identifier.transform((type): AttributeRequest => ({ type })),
  z.object({ type: identifier, value: z.string().nullable().optional(), notNull: z.boolean().optional() }),
]);
const condisconSchema = z.array(z.array(z.array(attributeRequestSchema)).min(1, 'empty disjunction'));

const bigintString = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return decodeB64(v);
  } catch (err) {
    if (!(err instanceof IdemixError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});

const baseRequestFields = {
  context: bigintString.optional(),
  nonce: bigintString.optional(),
  protocolVersion: z.string().optional(),
  devMode: z.boolean().optional(),
  disclose: condisconSchema.optional(),
  skipExpiryCheck: z.array(z.string()).optional(),
  clientReturnUrl: z.string().optional(),
  // Types to prove non-revocation for, with the server's updates per key counter (JSON as sent).
  revocation: z
    .union([z.array(z.string()), z.record(z.string(), z.object({ updates: z.record(z.string(), z.unknown()).optional() }).passthrough().nullable())])
    .optional(),
};

const credentialRequestSchema = z.object({
  credential: z.string().regex(/^[^.\s]+\.[^.\s]+\.[^.\s]+$/, 'not a credential type identifier'),
  validity: z.number().int().nonnegative(),
  keyCounter: z.number().int().nonnegative().optional(),
  attributes: z.record(z.string(), z.string().nullable()),
  randomblindIDs: z.array(z.string()).optional(),
  revocationSupported: z.boolean().optional(),
  sdJwtBatchSize: z.number().int().nonnegative().optional(),
});

const disclosureRequestSchema = z.object({ '@context': z.literal(CONTEXT.disclosing), ...baseRequestFields });
const signatureRequestSchema = z.object({
  '@context': z.literal(CONTEXT.signing),
  ...baseRequestFields,
  message: z.string().min(1),
});
const issuanceRequestSchema = z.object({
  '@context': z.literal(CONTEXT.issuing),
  ...baseRequestFields,
  credentials: z.array(credentialRequestSchema).min(1),
});

export interface CredentialRequest {
  credential: string;
  validity: number;
  keyCounter: number;
  attributes: Record<string, string | null>;
  revocationSupported: boolean;
  /** SD-JWT VC instances to ask for besides the Idemix credential (0 = none). */
  sdJwtBatchSize: number;
}

/** A session request as the client works with it: defaults filled in, integers decoded. */
export interface SessionRequest {
  type: SessionType;
  context: bigint;
  nonce: bigint;
  protocolVersion?: string;
  devMode: boolean;
  disclose: Condiscon;
  skipExpiryCheck: string[];
  clientReturnUrl?: string;
  message?: string;
  credentials?: CredentialRequest[];
  /** Credential type -> the server's updates by key counter (JSON); only types with updates ask for proofs. */
  revocation?: Record<string, Record<string, unknown>>;
}

const optionsSchema = z.object({
  '@context': z.literal(CONTEXT.options).optional(),
  pairingMethod: z.enum(['none', 'pin']),
  pairingCode: z.string().optional(),
});

const clientSessionRequestSchema = z.object({
  '@context': z.literal(CONTEXT.client),
  protocolVersion: z.string(),
  options: optionsSchema,
  request: z.unknown().optional(),
});

export interface ClientSessionRequest {
  protocolVersion: string;
  pairingMethod: 'none' | 'pin';
  pairingCode?: string;
  /** Absent when pairing is required: then it comes from GET /request. */
  request?: SessionRequest;
}

const proofStatusSchema = z.enum(['VALID', 'INVALID', 'INVALID_TIMESTAMP', 'UNMATCHED_REQUEST', 'MISSING_ATTRIBUTES', 'EXPIRED']);
export type ProofStatus = z.infer<typeof proofStatusSchema>;

const serverSessionResponseSchema = z.object({
  proofStatus: proofStatusSchema,
  sigs: z.array(z.unknown()).optional(),
  sdjwts: z.array(z.string()).optional(),
  nextSession: qrSchema.optional().nullable(),
});

export interface ServerSessionResponse {
  proofStatus: ProofStatus;
  /** IssueSignatureMessages as JSON, parsed by the idemix layer. */
  sigs: unknown[];
  /** Compact SD-JWT VCs, one per holder key sent. */
  sdjwts: string[];
  nextSession?: Qr;
}

function fail(what: string, error: z.ZodError): never {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new ClientError('invalidRequest', `malformed ${what}${where}: ${issue?.message ?? 'invalid'}`);
}

export function parseQr(input: unknown): Qr {
  const r = qrSchema.safeParse(input);
  if (!r.success) fail('session pointer', r.error);
  return r.data;
}

/** Parses a bare session request; `expected` is the session type the pointer announced. */
export function parseSessionRequest(input: unknown, expected: SessionType): SessionRequest {
  const schema = expected === 'disclosing' ? disclosureRequestSchema : expected === 'signing' ? signatureRequestSchema : issuanceRequestSchema;
  const r = schema.safeParse(input);
  if (!r.success) fail(`${expected} session request`, r.error);
  const d = r.data;
  const out: SessionRequest = {
    type: expected,
    // Defaults when absent, as the reference: context 1, nonce 0.
    context: d.context ?? 1n,
    nonce: d.nonce ?? 0n,
    protocolVersion: d.protocolVersion,
    devMode: d.devMode ?? false,
    disclose: d.disclose ?? [],
    skipExpiryCheck: d.skipExpiryCheck ?? [],
    clientReturnUrl: d.clientReturnUrl,
  };
  if ('message' in d) out.message = d.message;
  if (d.revocation && !Array.isArray(d.revocation)) {
    const rev: Record<string, Record<string, unknown>> = {};
    for (const [type, params] of Object.entries(d.revocation)) {
      if (params?.updates && Object.keys(params.updates).length > 0) rev[type] = params.updates;
    }
    if (Object.keys(rev).length > 0) out.revocation = rev;
  }
  if ('credentials' in d) {
    out.credentials = d.credentials.map((c) => ({
      credential: c.credential,
      validity: c.validity,
      keyCounter: c.keyCounter ?? 0,
      attributes: c.attributes,
      revocationSupported: c.revocationSupported ?? false,
      sdJwtBatchSize: c.sdJwtBatchSize ?? 0,
    }));
  }
  if (expected !== 'issuing' && out.disclose.length === 0) {
    throw new ClientError('invalidRequest', `malformed ${expected} session request: nothing to disclose`);
  }
  return out;
}

export function parseClientSessionRequest(input: unknown, expected: SessionType): ClientSessionRequest {
  const r = clientSessionRequestSchema.safeParse(input);
  if (!r.success) fail('client session request', r.error);
  const { options } = r.data;
  if (options.pairingMethod === 'pin' && !/^[0-9]{4}$/.test(options.pairingCode ?? '')) {
    throw new ClientError('invalidRequest', 'malformed client session request: pin pairing without a 4-digit code');
  }
  const out: ClientSessionRequest = {
    protocolVersion: r.data.protocolVersion,
    pairingMethod: options.pairingMethod,
    pairingCode: options.pairingCode,
  };
  if (r.data.request !== undefined) out.request = parseSessionRequest(r.data.request, expected);
  else if (options.pairingMethod === 'none') {
    throw new ClientError('invalidRequest', 'malformed client session request: no request and no pairing');
  }
  return out;
}

export function parseServerSessionResponse(input: unknown): ServerSessionResponse {
  const r = serverSessionResponseSchema.safeParse(input);
  if (!r.success) fail('server session response', r.error);
  return {
    proofStatus: r.data.proofStatus,
    sigs: r.data.sigs ?? [],
    sdjwts: r.data.sdjwts ?? [],
    nextSession: r.data.nextSession ?? undefined,
  };
}
