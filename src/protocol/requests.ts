// Session requests (disclosure/v2, signature/v2, issuance/v2; spec §7.1) and the extended
// requestor request wrapping one (§7.2): their shapes, the reference's parse-time rules and
// messages, and their wire forms. Checks against the schemes live in request-validation.ts.
import { z } from 'zod';
import { decodeB64, encodeB64 } from '../idemix/bigint.js';
import { IdemixError } from '../idemix/errors.js';
import {
  attributeRequests,
  checkConDisConStructure,
  conDisConSchema,
  conDisConToJson,
  type AttributeConDisCon,
  type AttributeRequestJson,
} from './condiscon.js';
import {
  credentialRequestForClient,
  credentialRequestSchema,
  credentialRequestToJson,
  type CredentialRequest,
} from './credential-request.js';
import { deepFreeze } from './deep-freeze.js';
import { describeZodError, goInt, goObject, goRecord, goUint } from './decode.js';
import { ProtocolError } from './errors.js';
import { partsCount } from './identifiers.js';
import { formatVersion, parseProtocolVersion } from './versions.js';

export const LD_CONTEXT = {
  disclosing: 'https://irma.app/ld/request/disclosure/v2',
  signing: 'https://irma.app/ld/request/signature/v2',
  issuing: 'https://irma.app/ld/request/issuance/v2',
} as const;

export type SessionType = keyof typeof LD_CONTEXT;

/** Result JWTs live this long (s) unless the requestor says otherwise. */
export const DEFAULT_RESULT_JWT_VALIDITY = 120;

export type TranslatedString = Record<string, string>;

export interface NonRevocationRequest {
  tolerance?: number;
  /** Revocation update messages per key counter, filled by the server at connect (opaque here). */
  updates?: Record<string, unknown>;
}

interface BaseRequest {
  /** Server-set (base64 big integers); requestor values are overwritten at creation. */
  context?: string;
  nonce?: string;
  /** Server-set at connect. */
  protocolVersion?: string;
  revocation?: Record<string, NonRevocationRequest>;
  /** Server-set: true unless the server runs in production mode. */
  devMode?: boolean;
  clientReturnUrl?: string;
  augmentReturnUrl?: boolean;
  host?: string;
  disclose: AttributeConDisCon;
  /** Outer-conjunction index (as a decimal string) -> label. */
  labels?: Record<string, TranslatedString>;
  skipExpiryCheck?: string[];
}

export interface DisclosureRequest extends BaseRequest {
  '@context': typeof LD_CONTEXT.disclosing;
}
export interface SignatureRequest extends BaseRequest {
  '@context': typeof LD_CONTEXT.signing;
  message: string;
}
export interface IssuanceRequest extends BaseRequest {
  '@context': typeof LD_CONTEXT.issuing;
  credentials: CredentialRequest[];
}
export type SessionRequest = DisclosureRequest | SignatureRequest | IssuanceRequest;

/** What a requestor POSTs: the session request plus options for the server (§7.2). */
export interface RequestorRequest {
  validity: number;
  timeout?: number;
  callbackUrl?: string;
  nextSession?: { url: string };
  request: SessionRequest;
  /** Started from a pre-condiscon request: results are reported in the legacy shape. */
  legacy?: true;
}

export function sessionTypeOf(request: SessionRequest): SessionType {
  switch (request['@context']) {
    case LD_CONTEXT.disclosing:
      return 'disclosing';
    case LD_CONTEXT.signing:
      return 'signing';
    case LD_CONTEXT.issuing:
      return 'issuing';
  }
}

// ---- parsing -------------------------------------------------------------------------------

const bigIntJson = z.unknown().transform((v, ctx) => {
  try {
    return encodeB64(decodeB64(v));
  } catch (e) {
    if (!(e instanceof IdemixError)) throw e;
    ctx.addIssue({ code: 'custom', message: 'expected a base64 big integer' });
    return z.NEVER;
  }
});

const versionJson = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return formatVersion(parseProtocolVersion(String(v)));
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a protocol version x.y' });
    return z.NEVER;
  }
});

const nonRevocationRequestSchema = goObject({
  tolerance: goUint.optional(),
  updates: goRecord(z.unknown()).optional(),
}).transform((r): NonRevocationRequest => {
  const out: NonRevocationRequest = {};
  if (r.tolerance) out.tolerance = r.tolerance;
  if (r.updates && Object.keys(r.updates).length > 0) out.updates = r.updates;
  return out;
});

// Either a list of credential type ids or a map of them to parameters.
const revocationSchema = z
  .union([z.array(z.string()), goRecord(z.union([nonRevocationRequestSchema, z.null()]))])
  .transform((r): Record<string, NonRevocationRequest> => {
    if (Array.isArray(r)) return Object.fromEntries(r.map((id) => [id, {}]));
    return Object.fromEntries(Object.entries(r).map(([id, p]) => [id, p ?? {}]));
  });

const labelsSchema = goRecord(goRecord(z.string())).transform((labels, ctx) => {
  const out: Record<string, TranslatedString> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (!/^[+-]?[0-9]{1,9}$/.test(key)) {
      ctx.addIssue({ code: 'custom', message: `label key ${JSON.stringify(key)} is not an integer` });
      return z.NEVER;
    }
    out[String(Number(key))] = value;
  }
  return out;
});

const baseShape = {
  '@context': z.string().default(''),
  context: bigIntJson.optional(),
  nonce: bigIntJson.optional(),
  protocolVersion: versionJson.optional(),
  revocation: revocationSchema.optional(),
  devMode: z.boolean().optional(),
  clientReturnUrl: z.string().optional(),
  augmentReturnUrl: z.boolean().optional(),
  host: z.string().optional(),
  disclose: conDisConSchema.optional(),
  labels: labelsSchema.optional(),
  skipExpiryCheck: z.array(z.string()).optional(),
};

const sessionRequestShape = goObject({
  ...baseShape,
  message: z.string().optional(),
  credentials: z.array(credentialRequestSchema).optional(),
});

type SessionRequestInput = z.output<typeof sessionRequestShape>;

function buildSessionRequest(type: SessionType, r: SessionRequestInput): SessionRequest {
  const base: BaseRequest = { disclose: r.disclose ?? [] };
  if (r.context !== undefined) base.context = r.context;
  if (r.nonce !== undefined) base.nonce = r.nonce;
  if (r.protocolVersion !== undefined) base.protocolVersion = r.protocolVersion;
  if (r.revocation && Object.keys(r.revocation).length > 0) base.revocation = r.revocation;
  if (r.devMode) base.devMode = true;
  if (r.clientReturnUrl) base.clientReturnUrl = r.clientReturnUrl;
  if (r.augmentReturnUrl) base.augmentReturnUrl = true;
  if (r.host) base.host = r.host;
  if (r.labels && Object.keys(r.labels).length > 0) base.labels = r.labels;
  if (r.skipExpiryCheck?.length) base.skipExpiryCheck = r.skipExpiryCheck;
  switch (type) {
    case 'disclosing':
      return { '@context': LD_CONTEXT.disclosing, ...base };
    case 'signing':
      return { '@context': LD_CONTEXT.signing, ...base, message: r.message ?? '' };
    case 'issuing':
      return { '@context': LD_CONTEXT.issuing, ...base, credentials: r.credentials ?? [] };
  }
}

function shapeError(err: z.ZodError): ProtocolError {
  return new ProtocolError('INVALID_REQUEST', describeZodError(err));
}

/** The reference's Validate(): rules that need no schemes, with its messages. */
export function checkSessionRequest(request: SessionRequest): void {
  switch (request['@context']) {
    case LD_CONTEXT.disclosing:
      if (attributeRequests(request.disclose).next().done) {
        throw new ProtocolError('INVALID_REQUEST', 'Disclosure request had no attributes');
      }
      break;
    case LD_CONTEXT.signing:
      if (request.message === '') throw new ProtocolError('INVALID_REQUEST', 'Signature request had empty message');
      if (request.disclose.length === 0) throw new ProtocolError('INVALID_REQUEST', 'Signature request had no attributes');
      break;
    case LD_CONTEXT.issuing:
      if (request.credentials.length === 0) throw new ProtocolError('INVALID_REQUEST', 'Empty issuance request');
      for (const c of request.credentials) {
        const parts = partsCount(c.credential);
        if (parts !== 3) {
          throw new ProtocolError('INVALID_REQUEST', `Expected credential ID to consist of 3 parts, ${parts} found`);
        }
      }
      break;
  }
  checkConDisConStructure(request.disclose);
}

/** A session request of the given type; its @context must match (else `Not a … request`). */
export function parseSessionRequestAs(type: SessionType, input: unknown): SessionRequest {
  const shaped = sessionRequestShape.safeParse(input);
  if (!shaped.success) throw shapeError(shaped.error);
  if (shaped.data['@context'] !== LD_CONTEXT[type]) {
    const noun = { disclosing: 'a disclosure', signing: 'a signature', issuing: 'an issuance' }[type];
    throw new ProtocolError('INVALID_REQUEST', `Not ${noun} request`);
  }
  const request = buildSessionRequest(type, shaped.data);
  checkSessionRequest(request);
  return request;
}

/** A plain session request, its type taken from @context (`Invalid session request type`). */
export function parseSessionRequest(input: unknown): SessionRequest {
  const type = sessionTypeOfContext(contextOf(input));
  if (!type) throw new ProtocolError('INVALID_REQUEST', 'Invalid session request type');
  return parseSessionRequestAs(type, input);
}

const requestorShape = goObject({
  validity: goInt.optional(),
  timeout: goInt.optional(),
  callbackUrl: z.string().optional(),
  nextSession: goObject({ url: z.string().default('') }).optional(),
  request: z.unknown().optional(),
});

/** The extended request's own members (defaults applied) and its still unparsed `request`. */
export function parseRequestorEnvelope(input: unknown): { options: Omit<RequestorRequest, 'request'>; request: unknown } {
  const shaped = requestorShape.safeParse(input);
  if (!shaped.success) throw shapeError(shaped.error);
  const { validity, timeout, callbackUrl, nextSession, request } = shaped.data;
  const options: Omit<RequestorRequest, 'request'> = { validity: validity || DEFAULT_RESULT_JWT_VALIDITY };
  if (timeout) options.timeout = timeout;
  if (callbackUrl) options.callbackUrl = callbackUrl;
  if (nextSession) options.nextSession = { url: nextSession.url };
  return { options, request };
}

/**
 * An extended request of the given type. `Not a …` when `request` is missing, mirroring the
 * reference (the JWT path reports it as `Invalid JWT body: …`).
 */
export function parseRequestorRequestAs(type: SessionType, input: unknown): RequestorRequest {
  const { options, request } = parseRequestorEnvelope(input);
  if (request === undefined) {
    const name = { disclosing: 'ServiceProviderRequest', signing: 'SignatureRequestorRequest', issuing: 'IdentityProviderRequest' }[type];
    throw new ProtocolError('INVALID_REQUEST', `Not a ${name}`);
  }
  return { ...options, request: parseSessionRequestAs(type, request) };
}

// Built once: compiling a zod schema costs more than parsing with it.
const contextShape = goObject({ '@context': z.string().optional() });
const nestedContextShape = goObject({ request: goObject({ '@context': z.string().optional() }).optional() });

/**
 * The member of a JSON object a Go decoder would take for `name` (matched without regard to case,
 * the last one winning, null as absent), when that member is a string or there is none; undefined
 * otherwise, for the schema to judge.
 */
function stringMemberAsGo(input: unknown, name: string): string | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
  let found: unknown = null;
  for (const key in input) {
    if (!Object.hasOwn(input, key)) continue;
    if (key === name || key.toLowerCase() === name) found = (input as Record<string, unknown>)[key];
  }
  if (found === null) return '';
  return typeof found === 'string' ? found : undefined;
}

/** The @context of a plain request ("" when absent); a non-string one is a shape error. */
export function contextOf(input: unknown): string {
  // Every POST /session asks, and a schema parse for one member costs more than looking.
  const quick = stringMemberAsGo(input, '@context');
  if (quick !== undefined) return quick;
  const shaped = contextShape.safeParse(input);
  if (!shaped.success) throw shapeError(shaped.error);
  return shaped.data['@context'] ?? '';
}

/** The @context inside an extended request's `request` ("" when absent). */
export function nestedContextOf(input: unknown): string {
  const shaped = nestedContextShape.safeParse(input);
  if (!shaped.success) throw shapeError(shaped.error);
  return shaped.data.request?.['@context'] ?? '';
}

export function sessionTypeOfContext(context: string): SessionType | undefined {
  return (Object.keys(LD_CONTEXT) as SessionType[]).find((t) => LD_CONTEXT[t] === context);
}

// ---- serialising ---------------------------------------------------------------------------

/** The JSON of frozen condiscons (requests parsed once for many sessions), made once and frozen too. */
const frozenDiscloseJson = new WeakMap<AttributeConDisCon, AttributeRequestJson[][][]>();

/**
 * A frozen condiscon's JSON is itself frozen and the same object every time, so the sessions of one
 * request hold one copy, which the store shares and measures once.
 */
function discloseJson(cdc: AttributeConDisCon): AttributeRequestJson[][][] {
  if (!Object.isFrozen(cdc)) return conDisConToJson(cdc);
  let json = frozenDiscloseJson.get(cdc);
  if (json === undefined) {
    json = deepFreeze(conDisConToJson(cdc));
    frozenDiscloseJson.set(cdc, json);
  }
  return json;
}

/** The request's wire form, members in the reference's order, empty members left out. */
export function sessionRequestToJson(request: SessionRequest): Record<string, unknown> {
  const out: Record<string, unknown> = { '@context': request['@context'] };
  if (request.context !== undefined) out.context = request.context;
  if (request.nonce !== undefined) out.nonce = request.nonce;
  if (request.protocolVersion !== undefined) out.protocolVersion = request.protocolVersion;
  if (request.revocation && Object.keys(request.revocation).length > 0) out.revocation = request.revocation;
  if (request.devMode) out.devMode = true;
  if (request.clientReturnUrl) out.clientReturnUrl = request.clientReturnUrl;
  if (request.augmentReturnUrl) out.augmentReturnUrl = true;
  if (request.host) out.host = request.host;
  if (request.disclose.length > 0) out.disclose = discloseJson(request.disclose);
  if (request.labels && Object.keys(request.labels).length > 0) out.labels = request.labels;
  if (request.skipExpiryCheck?.length) out.skipExpiryCheck = request.skipExpiryCheck;
  switch (request['@context']) {
    case LD_CONTEXT.signing:
      out.message = request.message;
      break;
    case LD_CONTEXT.issuing:
      out.credentials = request.credentials.map(credentialRequestToJson);
      break;
  }
  return out;
}

/** The request as the app gets it (connect and GET /request): revocation keys stripped. */
export function requestForClient(request: SessionRequest): SessionRequest {
  if (request['@context'] !== LD_CONTEXT.issuing) return request;
  return { ...request, credentials: request.credentials.map(credentialRequestForClient) };
}

export function requestorRequestToJson(rr: RequestorRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rr.validity) out.validity = rr.validity;
  if (rr.timeout) out.timeout = rr.timeout;
  if (rr.callbackUrl) out.callbackUrl = rr.callbackUrl;
  if (rr.nextSession) out.nextSession = { url: rr.nextSession.url };
  out.request = sessionRequestToJson(rr.request);
  return out;
}
