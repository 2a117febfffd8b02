// POST /revocation body (spec §3.7): which issued credential to revoke.
import { z } from 'zod';
import { describeZodError, goObject } from './decode.js';
import { ProtocolError } from './errors.js';

export const REVOCATION_REQUEST_LD_CONTEXT = 'https://irma.app/ld/request/revocation/v1';

export interface RevocationRequest {
  '@context': typeof REVOCATION_REQUEST_LD_CONTEXT;
  /** Credential type id. */
  type: string;
  revocationKey: string;
  /** Issuance time in Unix nanoseconds, to pick one of several credentials with the same key. */
  issued?: number;
}

const schema = goObject({
  '@context': z.string().default(''),
  type: z.string().default(''),
  revocationKey: z.string().default(''),
  // Nanoseconds exceed 2^53: JSON numbers lose precision here, as they would in any JS client.
  issued: z.number().refine(Number.isInteger, { message: 'expected an integer' }).optional(),
});

export function parseRevocationRequest(input: unknown): RevocationRequest {
  const r = schema.safeParse(input);
  if (!r.success) throw new ProtocolError('INVALID_REQUEST', describeZodError(r.error));
  if (r.data['@context'] !== REVOCATION_REQUEST_LD_CONTEXT) throw new ProtocolError('INVALID_REQUEST', 'not a revocation request');
  const out: RevocationRequest = { '@context': REVOCATION_REQUEST_LD_CONTEXT, type: r.data.type, revocationKey: r.data.revocationKey };
  if (r.data.issued) out.issued = r.data.issued;
  return out;
}
