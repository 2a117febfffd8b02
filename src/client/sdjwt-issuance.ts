// The holder's part of SD-JWT VC issuance (sdjwtvc-issuance.md §6): a fresh P-256 key pair per
// instance the request asks for, then every SD-JWT VC in the answer checked (chain to the
// holder's trust anchors, signature, digests, and cnf = the key sent for that instance) and held
// to what the request said it would contain.
import { generateKeyPairSync, X509Certificate, type JsonWebKey } from 'node:crypto';
import { MAX_SD_JWT_BATCH_SIZE } from '../protocol/credential-request.js';
import { SdJwtError } from '../sdjwt/errors.js';
import { parseHolderKey, type HolderJwk } from '../sdjwt/holder-key.js';
import { verifySdJwtVc } from '../sdjwt/verify.js';
import { ClientError } from './errors.js';
import type { CredentialRequest } from './messages.js';
import { batchId, type StoredSdJwtVc } from './sdjwt-storage.js';

export interface HolderKeyPair {
  pub: HolderJwk;
  priv: JsonWebKey;
}

/** One key pair per SD-JWT VC the request announces, in credential order, then batch order. */
export function holderKeyPairs(credentials: readonly CredentialRequest[]): HolderKeyPair[] {
  const pairs: HolderKeyPair[] = [];
  for (const c of credentials) {
    if (c.sdJwtBatchSize > MAX_SD_JWT_BATCH_SIZE) {
      throw new ClientError('invalidRequest', `requested number of sdjwts (${c.sdJwtBatchSize}) for ${c.credential} exceeds ${MAX_SD_JWT_BATCH_SIZE}`);
    }
    for (let i = 0; i < c.sdJwtBatchSize; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      pairs.push({ pub: parseHolderKey(publicKey.export({ format: 'jwk' })), priv: privateKey.export({ format: 'jwk' }) });
    }
  }
  return pairs;
}

function crypto(message: string): ClientError {
  return new ClientError('crypto', `SD-JWT VC: ${message}`);
}

/** The SD-JWT VCs of an issuance answer, checked and ready to store; ClientError `crypto` otherwise. */
export async function checkSdJwtVcs(input: {
  sdjwts: readonly string[];
  credentials: readonly CredentialRequest[];
  keys: readonly HolderKeyPair[];
  trustAnchors: readonly string[];
  now: number;
}): Promise<StoredSdJwtVc[]> {
  if (input.sdjwts.length !== input.keys.length) throw crypto(`expected ${input.keys.length} SD-JWT VCs, got ${input.sdjwts.length}`);
  let anchors: X509Certificate[];
  try {
    anchors = input.trustAnchors.map((pem) => new X509Certificate(pem));
  } catch {
    throw new ClientError('invalidRequest', 'a trusted SD-JWT VC issuer certificate does not parse');
  }
  const storedAt = Date.now();
  const out: StoredSdJwtVc[] = [];
  let k = 0;
  for (const c of input.credentials) {
    const expected: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(c.attributes)) expected[name] = value ?? '';
    for (let i = 0; i < c.sdJwtBatchSize; i++, k++) {
      let v;
      try {
        v = await verifySdJwtVc(input.sdjwts[k], { trustAnchors: anchors, now: input.now, holderKey: input.keys[k].pub });
      } catch (err) {
        if (err instanceof SdJwtError) throw crypto(`instance ${k}: ${err.message}`);
        throw err;
      }
      if (v.vct !== c.credential) throw crypto(`instance ${k} is a ${v.vct}, not a ${c.credential}`);
      if (JSON.stringify(Object.entries(v.claims).sort()) !== JSON.stringify(Object.entries(expected).sort())) {
        throw crypto(`instance ${k} does not carry the attributes of the request`);
      }
      out.push({ vct: v.vct, sdJwt: input.sdjwts[k], holderKey: input.keys[k].priv, claims: v.claims, exp: v.exp, batch: batchId(v.vct, v.claims), storedAt });
    }
  }
  return out;
}
