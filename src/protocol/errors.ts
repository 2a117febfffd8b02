// The protocol's error table (spec §8) and the RemoteError body every failing endpoint returns.
// Names, statuses and descriptions are the reference server's, byte for byte: apps and requestor
// libraries switch on `error` and some show `description` to users.
import { z } from 'zod';
import { IdemixError } from '../idemix/errors.js';

export const ERROR_TABLE = {
  // requestor-side authorization (token, permissions, JWT age, Host mismatch)
  UNAUTHORIZED: { status: 403, description: 'You are not authorized to issue or verify this attribute' },
  PAIRING_REQUIRED: { status: 403, description: 'Pairing is required first' },
  UNEXPECTED_REQUEST: { status: 403, description: 'Unexpected request in this state' },
  UNKNOWN_PUBLIC_KEY: { status: 403, description: 'Attributes were not valid against a known public key' },
  KEYSHARE_PROOF_MISSING: { status: 403, description: 'ProofP object from a keyshare server missing' },
  SESSION_UNKNOWN: { status: 400, description: 'Unknown or expired session' },
  MALFORMED_INPUT: { status: 400, description: 'Input could not be parsed' },
  INVALID_REQUEST: { status: 400, description: 'Invalid HTTP request' },
  PROTOCOL_VERSION: { status: 400, description: 'Protocol version negotiation failed' },
  INVALID_PROOFS: { status: 400, description: 'Invalid secret key commitments and/or disclosure proofs' },
  ATTRIBUTES_EXPIRED: { status: 400, description: 'Disclosed attributes were expired' },
  EXCEPTION: { status: 500, description: 'Encountered unexpected problem' },
  ISSUANCE_FAILED: { status: 500, description: 'Failed to create credential(s)' },
  NEXT_SESSION: { status: 500, description: 'Error starting next session' },
  REVOCATION: { status: 500, description: 'Revocation error' },
  INTERNAL_ERROR: { status: 500, description: 'Internal server error' },
  SSE_DISABLED: { status: 500, description: 'Server sent events disabled' },
  UNKNOWN_REVOCATION_KEY: { status: 404, description: 'No issuance records correspond to the given revocationKey' },
  UNSUPPORTED: { status: 501, description: 'Unsupported by this server' },
  // defined by the reference but not produced by its session server
  ATTRIBUTES_MISSING: { status: 400, description: 'Not all requested-for attributes were present' },
  INVALID_TIMESTAMP: { status: 400, description: 'Timestamp was not an epoch boundary' },
  ISSUING_DISABLED: { status: 403, description: 'This server does not support issuing' },
  MALFORMED_VERIFIER_REQUEST: { status: 400, description: 'Malformed verification request' },
  MALFORMED_SIGNATURE_REQUEST: { status: 400, description: 'Malformed signature request' },
  MALFORMED_ISSUER_REQUEST: { status: 400, description: 'Malformed issuer request' },
  ATTRIBUTES_WRONG: {
    status: 400,
    description: 'Specified attribute(s) do not belong to this credential type or missing attributes',
  },
  CANNOT_ISSUE: { status: 500, description: 'Cannot issue this credential' },
  // keyshare server only
  INVALID_TOKEN: { status: 403, description: 'Provided token is unknown or invalid' },
  MISSING_COMMITMENT: { status: 409, description: 'Keyshare response was requested without corresponding commitment' },
  MISSING_CHALLENGE: { status: 409, description: 'Keyshare pin response was requested without corresponding challenge' },
  REVALIDATE_EMAIL: { status: 500, description: 'Invalid email address is scheduled for revalidation' },
  USER_NOT_REGISTERED: { status: 403, description: 'User is not yet fully registered' },
  INVALID_EMAIL: { status: 400, description: 'Invalid email address' },
  TOO_MANY_REQUESTS: { status: 429, description: 'Too many requests' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorType = keyof typeof ERROR_TABLE;

/** The second UNAUTHORIZED row: failed client/frontend Authorization checks on /irma/session/…. */
export const SESSION_UNAUTHORIZED_DESCRIPTION = 'You are not authorized to access the session';

export interface ProtocolErrorOptions {
  /** Overrides the table's description ('' leaves it out of the body). */
  description?: string;
  /** Overrides the table's HTTP status (only the unmatched-route bodies need this). */
  status?: number;
  cause?: unknown;
}

export class ProtocolError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  readonly description: string;

  constructor(type: ErrorType, message = '', opts: ProtocolErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProtocolError';
    this.type = type;
    this.status = opts.status ?? ERROR_TABLE[type].status;
    this.description = opts.description ?? ERROR_TABLE[type].description;
  }

  /** 403 UNAUTHORIZED as the client/frontend endpoints report it. */
  static sessionUnauthorized(message = ''): ProtocolError {
    return new ProtocolError('UNAUTHORIZED', message, { description: SESSION_UNAUTHORIZED_DESCRIPTION });
  }

  /** Unknown /irma route (404) or wrong method (405): `{"status":…,"error":"INVALID_REQUEST"}`. */
  static unmatchedRoute(status: 404 | 405): ProtocolError {
    return new ProtocolError('INVALID_REQUEST', '', { status, description: '' });
  }
}

export interface RemoteError {
  status?: number;
  error?: string;
  description?: string;
  message?: string;
  stacktrace?: string;
}

/** The JSON error body, members in the reference's order, empty members left out. */
export function remoteError(err: ProtocolError, opts: { stacktrace?: boolean } = {}): RemoteError {
  const out: RemoteError = {};
  if (err.status) out.status = err.status;
  out.error = err.type;
  if (err.description) out.description = err.description;
  if (err.message) out.message = err.message;
  if (opts.stacktrace && err.stack) out.stacktrace = err.stack;
  return out;
}

export const remoteErrorSchema = z.object({
  status: z.number().int().optional(),
  error: z.string().optional(),
  description: z.string().optional(),
  message: z.string().optional(),
  stacktrace: z.string().optional(),
});

const IDEMIX_ERROR_TYPES: Record<IdemixError['code'], ErrorType> = {
  MALFORMED: 'MALFORMED_INPUT',
  UNKNOWN_PUBLIC_KEY: 'UNKNOWN_PUBLIC_KEY',
  INVALID_PROOF: 'INVALID_PROOFS',
  INVALID_KEY: 'EXCEPTION',
  ISSUANCE_FAILED: 'ISSUANCE_FAILED',
};

/**
 * Any thrown value as a ProtocolError. Errors we did not type ourselves become `fallback`
 * without their text, so internals never leak into a response.
 */
export function toProtocolError(err: unknown, fallback: ErrorType = 'INTERNAL_ERROR'): ProtocolError {
  if (err instanceof ProtocolError) return err;
  if (err instanceof IdemixError) return new ProtocolError(IDEMIX_ERROR_TYPES[err.code], err.message, { cause: err });
  return new ProtocolError(fallback, '', { cause: err });
}
