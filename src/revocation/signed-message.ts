// gabi's signed.Message: CBOR {"Msg": payload CBOR, "Sig": DER ECDSA-P256 over SHA-256(Msg)}, signed
// with the ECDSA pair that an issuer's Idemix key files carry (private: base64 SEC1 DER, public:
// base64 PKIX DER).
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { asMap, decodeCbor, encodeCbor, getBytes } from './cbor.js';
import { RevocationError } from './errors.js';

const keyCache = new Map<string, KeyObject>();

function cachedKey(b64: string, kind: 'public' | 'private'): KeyObject {
  const id = `${kind}:${b64}`;
  let key = keyCache.get(id);
  if (key === undefined) {
    const der = Buffer.from(b64.trim(), 'base64');
    try {
      key = kind === 'public'
        ? createPublicKey({ key: der, format: 'der', type: 'spki' })
        : createPrivateKey({ key: der, format: 'der', type: 'sec1' });
    } catch {
      throw new RevocationError('REVOCATION', `malformed ECDSA ${kind} key`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new RevocationError('REVOCATION', `ECDSA ${kind} key is not on P-256`);
    }
    keyCache.set(id, key);
  }
  return key;
}

/** Wraps already-encoded payload bytes into a signed message. */
export function signMessage(payload: Uint8Array, ecdsaPrivateKeyB64: string): Uint8Array {
  const sig = sign('sha256', payload, { key: cachedKey(ecdsaPrivateKeyB64, 'private'), dsaEncoding: 'der' });
  return encodeCbor(new Map<string, Uint8Array>([['Msg', payload], ['Sig', sig]]));
}

/**
 * Checks the signature and returns the payload bytes (still CBOR). Node's DER parser refuses
 * trailing bytes and anything but SEQUENCE{r, s}, as gabi's current strict decoding does.
 */
export function openSignedMessage(message: Uint8Array, ecdsaPublicKeyB64: string): Uint8Array {
  let m: Map<unknown, unknown>;
  let payload: Uint8Array;
  let sig: Uint8Array;
  try {
    m = asMap(decodeCbor(message), 'signed message');
    payload = getBytes(m, 'Msg', 'signed message');
    sig = getBytes(m, 'Sig', 'signed message');
  } catch (e) {
    throw new RevocationError('MALFORMED', `undecodable signed message: ${(e as Error).message}`);
  }
  let ok = false;
  try {
    ok = verify('sha256', payload, { key: cachedKey(ecdsaPublicKeyB64, 'public'), dsaEncoding: 'der' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) throw new RevocationError('SIGNATURE', 'signature on signed message does not verify');
  return payload;
}
