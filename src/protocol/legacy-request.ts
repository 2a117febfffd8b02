// Pre-condiscon session requests (spec §7.8), still accepted at POST /session when a body has
// no @context: `{"type":"disclosing","content":[{"label":…,"attributes":[ids] | {id: value}}]}`
// (signing adds `message`; issuance has `credentials` and a labelled `disclose`). Each labelled
// disjunction becomes one disjunction of single-attribute options. Sessions started this way
// report their result in the legacy (flat) shape.
import { z } from 'zod';
import type { AttributeConDisCon, AttributeRequest } from './condiscon.js';
import { credentialRequestSchema } from './credential-request.js';
import { goObject, goRecord } from './decode.js';
import { ProtocolError } from './errors.js';
import { MAX_IDENTIFIER_LENGTH } from './identifiers.js';
import {
  checkSessionRequest,
  DEFAULT_RESULT_JWT_VALIDITY,
  LD_CONTEXT,
  parseRequestorEnvelope,
  type RequestorRequest,
  type SessionRequest,
  type SessionType,
  type TranslatedString,
} from './requests.js';

const identifier = z.string().max(MAX_IDENTIFIER_LENGTH);

const legacyDisjunctionSchema = goObject({
  label: z.string().default(''),
  attributes: z
    .union([z.array(identifier), goRecord(z.string().nullable())])
    .default([])
    .transform((a): AttributeRequest[] =>
      Array.isArray(a)
        ? a.map((type) => ({ type }))
        : Object.entries(a).map(([type, value]) => (value === null ? { type } : { type, value })),
    ),
});

const legacyShape = goObject({
  type: z.string().default(''),
  content: z.array(legacyDisjunctionSchema).optional(),
  disclose: z.array(legacyDisjunctionSchema).optional(),
  message: z.string().optional(),
  credentials: z.array(credentialRequestSchema).optional(),
});

type LegacyDisjunction = z.output<typeof legacyDisjunctionSchema>;

function convert(disjunctions: LegacyDisjunction[]): { disclose: AttributeConDisCon; labels: Record<string, TranslatedString> } {
  const labels: Record<string, TranslatedString> = {};
  const disclose = disjunctions.map((d, i) => {
    labels[String(i)] = { en: d.label, nl: d.label };
    return d.attributes.map((a) => [a]);
  });
  return { disclose, labels };
}

/** One legacy session request of the expected type, or undefined when the body is not one. */
function tryLegacySessionRequest(type: SessionType, input: unknown): SessionRequest | undefined {
  const shaped = legacyShape.safeParse(input);
  if (!shaped.success || shaped.data.type !== type) return undefined;
  const { content, disclose, message, credentials } = shaped.data;
  let request: SessionRequest;
  switch (type) {
    case 'disclosing':
      request = { '@context': LD_CONTEXT.disclosing, ...convert(content ?? []) };
      break;
    case 'signing':
      request = { '@context': LD_CONTEXT.signing, ...convert(content ?? []), message: message ?? '' };
      break;
    case 'issuing':
      request = { '@context': LD_CONTEXT.issuing, ...convert(disclose ?? []), credentials: credentials ?? [] };
      break;
  }
  try {
    checkSessionRequest(request);
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
  return request;
}

const TYPES: SessionType[] = ['disclosing', 'signing', 'issuing'];

/** An extended request of a known type around a legacy request (the JWT claim form). */
export function parseLegacyRequestorRequestAs(type: SessionType, input: unknown): RequestorRequest {
  const envelope = parseRequestorEnvelope(input);
  const request = tryLegacySessionRequest(type, envelope.request);
  if (!request) throw new ProtocolError('INVALID_REQUEST', `not a ${type} session request`);
  return { ...envelope.options, request, legacy: true };
}

/**
 * A body without any @context, tried as the reference does: first as an extended request
 * around a legacy request, then as a bare legacy request.
 */
export function parseLegacyRequestorRequest(input: unknown): RequestorRequest {
  let envelope: ReturnType<typeof parseRequestorEnvelope> | undefined;
  try {
    envelope = parseRequestorEnvelope(input);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
  if (envelope?.request !== undefined) {
    for (const type of TYPES) {
      const request = tryLegacySessionRequest(type, envelope.request);
      if (request) return { ...envelope.options, request, legacy: true };
    }
  }
  for (const type of TYPES) {
    const request = tryLegacySessionRequest(type, input);
    if (request) return { validity: DEFAULT_RESULT_JWT_VALIDITY, request, legacy: true };
  }
  throw new ProtocolError('INVALID_REQUEST', 'Failed to JSON unmarshal request bytes');
}
