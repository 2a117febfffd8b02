// Issuance of revocable credentials (digest §4.4): a witness per revocable credential against the
// latest accumulator of the issuing key, and afterwards the issuance record under the
// requestor's revocationKey.
import { createMetadata, parseMetadata } from '../idemix/metadata.js';
import { encodeB64 } from '../idemix/bigint.js';
import { ProtocolError } from '../protocol/errors.js';
import type { JsonObject } from '../session/session.js';
import type { IssuanceRecord } from '../revocation/store.js';
import type { ServerContext } from './context.js';
import type { VerificationInput } from './proof-port.js';

interface Prepared {
  witnesses?: VerificationInput['witnesses'];
  /** Stores or sends the records; call only once the credentials are signed. */
  record(): Promise<void>;
}

interface RequestedCredential {
  credential: string;
  keyCounter?: number;
  validity?: number;
  revocationKey?: string;
}

export async function prepareRevocableIssuance(ctx: ServerContext, request: JsonObject, nowMs: number): Promise<Prepared> {
  const creds = (Array.isArray(request.credentials) ? request.credentials : []) as unknown as RequestedCredential[];
  const revocable = creds.map((c) => ctx.schemes.credentialType(c.credential)?.revocationSupported === true);
  if (!revocable.some(Boolean)) return { record: async () => undefined };
  const service = ctx.revocation;
  if (!service) throw new ProtocolError('ISSUANCE_FAILED', 'revocation is not configured on this server');
  const records: IssuanceRecord[] = [];
  const witnesses: NonNullable<VerificationInput['witnesses']> = [];
  const nowS = Math.floor(nowMs / 1000);
  try {
    for (const [i, c] of creds.entries()) {
      if (!revocable[i]) {
        witnesses.push(null);
        continue;
      }
      const type = ctx.schemes.credentialType(c.credential)!;
      const counter = c.keyCounter ?? 0;
      const sk = ctx.schemes.privateKey(type.issuerId, counter);
      if (!sk) throw new Error(`no private key ${counter} for ${type.issuerId}`);
      const w = await service.witness(type.id, sk);
      witnesses.push({ u: encodeB64(w.u), e: encodeB64(w.e), sacc: { data: Buffer.from(w.sacc.data).toString('base64'), pk: w.sacc.pk } });
      // The expiry the credential's metadata will carry (week-rounded), as the reference records it.
      const expiry = parseMetadata(createMetadata({ credentialTypeId: type.id, keyCounter: counter, issuedAt: nowS, validUntil: c.validity ?? nowS })).expiry;
      records.push({
        key: c.revocationKey ?? '',
        credType: type.id,
        issued: BigInt(nowMs) * 1_000_000n + BigInt(i),
        pkCounter: counter,
        attr: w.e,
        validUntil: BigInt(expiry) * 1_000_000_000n,
        revokedAt: 0n,
      });
    }
  } catch (e) {
    throw new ProtocolError('ISSUANCE_FAILED', (e as Error).message);
  }
  return {
    witnesses,
    async record() {
      try {
        for (const r of records) await service.recordIssuance(r);
      } catch (e) {
        throw new ProtocolError('ISSUANCE_FAILED', (e as Error).message);
      }
    },
  };
}
