import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IdemixError } from '../../src/idemix/errors.js';
import {
  ERROR_TABLE,
  ProtocolError,
  remoteError,
  remoteErrorSchema,
  toProtocolError,
} from '../../src/protocol/errors.js';

describe('error table (§8)', () => {
  it('statuses and descriptions of the session server errors', () => {
    const rows: [keyof typeof ERROR_TABLE, number, string][] = [
      ['UNAUTHORIZED', 403, 'You are not authorized to issue or verify this attribute'],
      ['PAIRING_REQUIRED', 403, 'Pairing is required first'],
      ['UNEXPECTED_REQUEST', 403, 'Unexpected request in this state'],
      ['UNKNOWN_PUBLIC_KEY', 403, 'Attributes were not valid against a known public key'],
      ['KEYSHARE_PROOF_MISSING', 403, 'ProofP object from a keyshare server missing'],
      ['SESSION_UNKNOWN', 400, 'Unknown or expired session'],
      ['MALFORMED_INPUT', 400, 'Input could not be parsed'],
      ['INVALID_REQUEST', 400, 'Invalid HTTP request'],
      ['PROTOCOL_VERSION', 400, 'Protocol version negotiation failed'],
      ['INVALID_PROOFS', 400, 'Invalid secret key commitments and/or disclosure proofs'],
      ['ATTRIBUTES_EXPIRED', 400, 'Disclosed attributes were expired'],
      ['EXCEPTION', 500, 'Encountered unexpected problem'],
      ['ISSUANCE_FAILED', 500, 'Failed to create credential(s)'],
      ['NEXT_SESSION', 500, 'Error starting next session'],
      ['REVOCATION', 500, 'Revocation error'],
      ['INTERNAL_ERROR', 500, 'Internal server error'],
      ['SSE_DISABLED', 500, 'Server sent events disabled'],
      ['UNKNOWN_REVOCATION_KEY', 404, 'No issuance records correspond to the given revocationKey'],
      ['UNSUPPORTED', 501, 'Unsupported by this server'],
      ['TOO_MANY_REQUESTS', 429, 'Too many requests'],
      ['MISSING_COMMITMENT', 409, 'Keyshare response was requested without corresponding commitment'],
    ];
    for (const [type, status, description] of rows) {
      const e = new ProtocolError(type);
      expect([e.status, e.description]).toEqual([status, description]);
    }
  });
});

describe('RemoteError body', () => {
  it('members in order, empty ones left out', () => {
    const body = remoteError(new ProtocolError('SESSION_UNKNOWN'));
    expect(JSON.stringify(body)).toBe('{"status":400,"error":"SESSION_UNKNOWN","description":"Unknown or expired session"}');
    const withMessage = remoteError(new ProtocolError('INVALID_REQUEST', 'Unsupported Content-Type: text/xml'));
    expect(Object.keys(withMessage)).toEqual(['status', 'error', 'description', 'message']);
    expect(remoteErrorSchema.parse(withMessage)).toEqual(withMessage);
  });

  it('the session-authorization variant of UNAUTHORIZED', () => {
    expect(remoteError(ProtocolError.sessionUnauthorized())).toEqual({
      status: 403,
      error: 'UNAUTHORIZED',
      description: 'You are not authorized to access the session',
    });
  });

  it('unmatched /irma routes: status and error only', () => {
    expect(JSON.stringify(remoteError(ProtocolError.unmatchedRoute(404)))).toBe('{"status":404,"error":"INVALID_REQUEST"}');
    expect(JSON.stringify(remoteError(ProtocolError.unmatchedRoute(405)))).toBe('{"status":405,"error":"INVALID_REQUEST"}');
  });

  it('stack trace only when asked', () => {
    const e = new ProtocolError('EXCEPTION', 'x');
    expect(remoteError(e).stacktrace).toBeUndefined();
    expect(remoteError(e, { stacktrace: true }).stacktrace).toContain('ProtocolError');
  });
});

describe('typing foreign errors', () => {
  it('idemix errors map onto the table, keeping their message', () => {
    expect(toProtocolError(new IdemixError('UNKNOWN_PUBLIC_KEY', 'no key 7')).type).toBe('UNKNOWN_PUBLIC_KEY');
    expect(toProtocolError(new IdemixError('MALFORMED', 'bad')).message).toBe('bad');
    expect(toProtocolError(new IdemixError('INVALID_PROOF', 'x')).type).toBe('INVALID_PROOFS');
  });

  it('anything else becomes the fallback without leaking its text', () => {
    const e = toProtocolError(new TypeError('secret detail'));
    expect([e.type, e.message]).toEqual(['INTERNAL_ERROR', '']);
    expect(toProtocolError(z.string().safeParse(1).error, 'MALFORMED_INPUT').type).toBe('MALFORMED_INPUT');
    const p = new ProtocolError('NEXT_SESSION', 'm');
    expect(toProtocolError(p)).toBe(p);
  });
});
