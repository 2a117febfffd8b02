// The authority's record of one issued revocable credential, and its signed CBOR form in which a
// non-authority issuer sends it to the authority.
import { fromBytes, toBytes } from '../idemix/bigint.js';
import { asMap, decodeCbor, encodeCbor, getBytes, getInt64, getText, getUint, int64Value } from './cbor.js';
import { RevocationError } from './errors.js';
import type { IssuanceRecord } from './store.js';

export function encodeIssuanceRecord(r: IssuanceRecord): Uint8Array {
  const m = new Map<string, unknown>([
    ['Key', r.key],
    ['CredType', r.credType],
    ['Issued', int64Value(r.issued)],
    ['PKCounter', r.pkCounter],
    ['Attr', toBytes(r.attr)],
    ['ValidUntil', int64Value(r.validUntil)],
  ]);
  if (r.revokedAt !== 0n) m.set('RevokedAt', int64Value(r.revokedAt));
  return encodeCbor(m);
}

export function decodeIssuanceRecord(bytes: Uint8Array): IssuanceRecord {
  try {
    const m = asMap(decodeCbor(bytes), 'issuance record');
    return {
      key: getText(m, 'Key', 'issuance record'),
      credType: getText(m, 'CredType', 'issuance record'),
      issued: getInt64(m, 'Issued', 'issuance record', true),
      pkCounter: getUint(m, 'PKCounter', 'issuance record', true),
      attr: fromBytes(getBytes(m, 'Attr', 'issuance record')),
      validUntil: getInt64(m, 'ValidUntil', 'issuance record', true),
      revokedAt: getInt64(m, 'RevokedAt', 'issuance record', true),
    };
  } catch (e) {
    throw new RevocationError('UNAUTHORIZED', `undecodable issuance record: ${(e as Error).message}`);
  }
}
