// POST /revocation (digest §6): an authenticated requestor with revoke permission revokes the
// credentials issued under a revocation key.
import type { FastifyInstance } from 'fastify';
import { ProtocolError } from '../protocol/errors.js';
import { parseRevocationRequest } from '../protocol/revocation-request.js';
import { RevocationError } from '../revocation/errors.js';
import type { ServerContext } from './context.js';
import { bodyText, header } from './request-parts.js';
import type { RequestorAuthenticator } from './requestor-auth.js';

/** Nanosecond `issued` exceeds 2^53: read its digits from the text rather than from a JS number. */
function exactIssued(text: string): bigint | undefined {
  const m = /"issued"\s*:\s*(\d{1,20})\b/.exec(text);
  return m ? BigInt(m[1]) : undefined;
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError('INVALID_REQUEST', 'not a revocation request');
  }
}

export function canRevoke(ctx: ServerContext, requestor: string, type: string): void {
  const own = ctx.options.requestors[requestor]?.revokePerms ?? [];
  const perms = [...own, ...ctx.options.revokePerms];
  if (perms.length === 0) throw new ProtocolError('UNAUTHORIZED', '');
  const credType = ctx.schemes.credentialType(type);
  if (!credType) throw new ProtocolError('UNAUTHORIZED', type);
  const sk = ctx.schemes.latestPrivateKey(credType.issuerId);
  if (!sk || sk.ecdsa === undefined) {
    throw new ProtocolError('UNAUTHORIZED', `private key of ${credType.issuerId} not installed or without revocation key material`);
  }
  const [scheme, issuer] = type.split('.');
  const ok = perms.some((p) => p === '*' || p === `${scheme}.*` || p === `${scheme}.${issuer}.*` || p === type);
  if (!ok) throw new ProtocolError('UNAUTHORIZED', type);
}

export function registerRevocationRequestorRoute(app: FastifyInstance, ctx: ServerContext, authenticator: RequestorAuthenticator): void {
  app.post('/revocation', async (request, reply) => {
    const text = bodyText(request);
    let issued: bigint | undefined;
    const { requestor, request: rr } = await authenticator.authenticateAs(
      header(request, 'content-type'),
      header(request, 'authorization'),
      text,
      (t) => {
        issued = exactIssued(t);
        return parseRevocationRequest(parseJsonText(t));
      },
      (claims) => {
        const body = claims.revrequest;
        if (typeof body !== 'object' || body === null) throw new ProtocolError('INVALID_REQUEST', 'Invalid JWT body');
        try {
          const middle = text.trim().split('.')[1] ?? '';
          issued = exactIssued(Buffer.from(middle, 'base64url').toString('utf8'));
        } catch {
          issued = undefined;
        }
        return parseRevocationRequest(body);
      },
    );
    canRevoke(ctx, requestor, rr.type);
    const service = ctx.revocation;
    if (!service || !service.isAuthority(rr.type)) throw new ProtocolError('REVOCATION', `cannot revoke ${rr.type}`);
    try {
      await service.revoke(rr.type, rr.revocationKey, issued !== undefined && issued !== 0n ? issued : undefined);
    } catch (e) {
      if (e instanceof RevocationError && e.code === 'UNKNOWN_REVOCATION_KEY') throw new ProtocolError('UNKNOWN_REVOCATION_KEY');
      if (e instanceof RevocationError) throw new ProtocolError('REVOCATION', e.message);
      throw new ProtocolError('REVOCATION', 'revocation database error');
    }
    return reply.code(200).type('text/plain; charset=UTF-8').send('OK');
  });
}
