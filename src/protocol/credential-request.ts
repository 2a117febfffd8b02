// One credential to issue in an issuance request (spec §7.3).
import { z } from 'zod';
import { goInt, goObject, goRecord, goUint } from './decode.js';
import { MAX_IDENTIFIER_LENGTH } from './identifiers.js';

/** Most SD-JWT VC copies one credential may ask for. */
export const MAX_SD_JWT_BATCH_SIZE = 200;

export interface CredentialRequest {
  /** Expiry (Unix s); filled with now + 6 months by the server when absent. */
  validity?: number;
  /** Server-set: counter of the issuer key that will sign. */
  keyCounter?: number;
  credential: string;
  /** Attribute name -> value; optional attributes may be left out (= null). */
  attributes: Record<string, string>;
  /** Requestor's handle for later revocation; never sent to the app. */
  revocationKey?: string;
  /** Sent to the app instead of revocationKey. */
  revocationSupported?: boolean;
  /** Server-set: names of the credential type's random-blind attributes. */
  randomblindIDs?: string[];
  sdJwtBatchSize?: number;
}

export const credentialRequestSchema = goObject({
  validity: goInt.optional(),
  keyCounter: goUint.optional(),
  credential: z.string().max(MAX_IDENTIFIER_LENGTH, { message: 'identifier too long' }).default(''),
  // Go stores a null map value as "": such an attribute is issued as the empty string.
  attributes: goRecord(z.string().nullable().transform((v) => v ?? '')).optional(),
  revocationKey: z.string().optional(),
  revocationSupported: z.boolean().optional(),
  randomblindIDs: z.array(z.string()).optional(),
  sdJwtBatchSize: goUint.optional(),
}).transform((c): CredentialRequest => {
  const out: CredentialRequest = { credential: c.credential, attributes: { ...(c.attributes ?? {}) } };
  if (c.validity !== undefined) out.validity = c.validity;
  if (c.keyCounter) out.keyCounter = c.keyCounter;
  if (c.revocationKey) out.revocationKey = c.revocationKey;
  if (c.revocationSupported) out.revocationSupported = true;
  if (c.randomblindIDs?.length) out.randomblindIDs = [...c.randomblindIDs];
  if (c.sdJwtBatchSize) out.sdJwtBatchSize = c.sdJwtBatchSize;
  return out;
});

/** Wire form in the reference's member order; attribute names sorted as Go sorts map keys. */
export function credentialRequestToJson(c: CredentialRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c.validity !== undefined) out.validity = c.validity;
  if (c.keyCounter) out.keyCounter = c.keyCounter;
  out.credential = c.credential;
  out.attributes = Object.fromEntries(Object.keys(c.attributes).sort().map((k) => [k, c.attributes[k]]));
  if (c.revocationKey) out.revocationKey = c.revocationKey;
  if (c.revocationSupported) out.revocationSupported = true;
  if (c.randomblindIDs?.length) out.randomblindIDs = [...c.randomblindIDs];
  if (c.sdJwtBatchSize) out.sdJwtBatchSize = c.sdJwtBatchSize;
  return out;
}

/** What the app gets: the revocation key replaced by the fact that there is one. */
export function credentialRequestForClient(c: CredentialRequest): CredentialRequest {
  const { revocationKey, ...rest } = c;
  const out: CredentialRequest = { ...rest };
  if (revocationKey) out.revocationSupported = true;
  else delete out.revocationSupported;
  return out;
}
