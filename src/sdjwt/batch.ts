// The SD-JWT VCs of one issuance session (sdjwtvc-issuance.md §3 step 4): per credential in request
// order, `sdJwtBatchSize` instances, each bound to the next holder key.
import { SdJwtError } from './errors.js';
import type { HolderJwk } from './holder-key.js';
import type { SdJwtIssuers } from './issuer-keys.js';

/**
 * Most SD-JWT VCs one session may ask for, summed over its credentials (each at most 200, as the
 * reference). The reference sets no sum; this bounds the signing work and the response (a few kB
 * per SD-JWT VC, kept in the session's replay cache) of one session.
 */
export const MAX_SD_JWTS_PER_SESSION = 1000;

export interface SdJwtCredential {
  credential: string;
  attributes: Readonly<Record<string, string>>;
  /** Expiry, Unix seconds (the credential request's validity). */
  validity?: number;
  sdJwtBatchSize?: number;
}

export function sdJwtTotal(credentials: readonly SdJwtCredential[]): number {
  return credentials.reduce((n, c) => n + (c.sdJwtBatchSize ?? 0), 0);
}

/** The `<scheme>.<issuer>` part of a credential type id. */
export function issuerOf(credentialTypeId: string): string {
  return credentialTypeId.split('.').slice(0, 2).join('.');
}

/**
 * The issuance request's SD-JWT demands that this server cannot meet, as one message, or
 * undefined. A credential without SD-JWTs needs no SD-JWT issuer: it is issued as Idemix only.
 */
export function sdJwtRequestProblem(credentials: readonly SdJwtCredential[], issuers: SdJwtIssuers | undefined): string | undefined {
  const total = sdJwtTotal(credentials);
  if (total > MAX_SD_JWTS_PER_SESSION) {
    return `requested number of sdjwts (${total}) is higher than the maximum per session (${MAX_SD_JWTS_PER_SESSION})`;
  }
  if (issuers === undefined) return undefined;
  for (const c of credentials) {
    if ((c.sdJwtBatchSize ?? 0) > 0 && !issuers.has(issuerOf(c.credential))) {
      return `no SD-JWT VC issuer configured for ${issuerOf(c.credential)} (credential ${c.credential} asks for sdJwtBatchSize ${c.sdJwtBatchSize})`;
    }
  }
  return undefined;
}

export interface BatchInput {
  credentials: readonly SdJwtCredential[];
  keys: readonly HolderJwk[];
  issuers: SdJwtIssuers;
  /** Unix seconds, shared by the whole session. */
  iat: number;
}

/** All SD-JWT VCs of the session in key order; SdJwtError when they cannot all be made. */
export async function issueBatch(input: BatchInput): Promise<string[]> {
  const total = sdJwtTotal(input.credentials);
  if (input.keys.length !== total) {
    throw new SdJwtError(`number of requested SD-JWTs (${total}) does not match the number of pub keys (${input.keys.length})`);
  }
  // Loaded on first use: jose is ~2 MB of a server's heap, and most servers never issue SD-JWT VCs.
  const { issueSdJwtVc } = await import('./sdjwt-vc.js');
  const jobs: Promise<string>[] = [];
  let k = 0;
  for (const c of input.credentials) {
    const n = c.sdJwtBatchSize ?? 0;
    if (n === 0) continue;
    const issuer = input.issuers.get(issuerOf(c.credential));
    if (!issuer) throw new SdJwtError(`failed to generate sdjwts, no issuer configured for ${issuerOf(c.credential)}`);
    if (c.validity === undefined) throw new SdJwtError(`failed to generate sdjwts, no validity for ${c.credential}`);
    for (let i = 0; i < n; i++) {
      jobs.push(issueSdJwtVc({ issuer, vct: c.credential, attributes: c.attributes, iat: input.iat, exp: c.validity, holderKey: input.keys[k++] }));
    }
  }
  return Promise.all(jobs);
}
