// The holder's check of an SD-JWT VC it receives, as the app does it (sdjwtvc-issuance.md §6):
// form, header, signature by the first x5c certificate, that certificate's chain to one of the
// holder's trust anchors and its key usage, the claims and their times, every disclosure's digest,
// and (beyond the app) that `cnf` holds the very key the holder sent for this instance.
import { X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { certificateInfo } from './certificate-info.js';
import { disclosureDigest, SD_ALG } from './disclosure.js';
import { SdJwtError } from './errors.js';
import { parseHolderKey, sameHolderKey, type HolderJwk } from './holder-key.js';

/** How far in the future `iat`, or in the past `exp`, may be (the app's tolerance). */
export const CLOCK_SKEW_SECONDS = 180;
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];
const TYPES = ['dc+sd-jwt', 'vc+sd-jwt'];
const MAX_PATH = 8;

export interface VerifyOptions {
  /** Certificates the holder trusts as issuers of SD-JWT VC issuer certificates. */
  trustAnchors: readonly X509Certificate[];
  /** Unix seconds. */
  now: number;
  /** The key the holder sent for this instance. */
  holderKey?: HolderJwk;
}

export interface VerifiedSdJwtVc {
  vct: string;
  iss: string;
  iat: number;
  exp: number;
  cnf: HolderJwk;
  /** The disclosed claims: attribute id -> value. */
  claims: Record<string, unknown>;
}

function fail(message: string): never {
  throw new SdJwtError(message);
}

function decodeJson(b64url: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(b64url, 'base64url').toString('utf8'));
  } catch {
    return fail(`${what} is not base64url JSON`);
  }
}

function validAt(cert: X509Certificate, nowMs: number): boolean {
  return new Date(cert.validFrom).getTime() <= nowMs && nowMs <= new Date(cert.validTo).getTime();
}

/** Walks from the leaf through the other x5c certificates to a trust anchor. */
function checkChain(chain: X509Certificate[], anchors: readonly X509Certificate[], nowMs: number): void {
  let cur = chain[0];
  for (let depth = 0; depth < MAX_PATH; depth++) {
    if (!validAt(cur, nowMs)) fail(`certificate ${cur.subject.replace(/\n/g, ', ')} is not valid now`);
    if (anchors.some((a) => a.fingerprint256 === cur.fingerprint256)) return;
    const anchor = anchors.find((a) => cur.checkIssued(a) && cur.verify(a.publicKey));
    if (anchor) {
      if (!validAt(anchor, nowMs)) fail('the trust anchor is not valid now');
      return;
    }
    const next = chain.find((c) => c !== cur && cur.checkIssued(c) && cur.verify(c.publicKey) && c.ca);
    if (!next) break;
    cur = next;
  }
  fail('the issuer certificate does not chain to a trusted certificate');
}

function integer(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`claim ${name} must be an integer`);
  return v;
}

export async function verifySdJwtVc(compact: string, opts: VerifyOptions): Promise<VerifiedSdJwtVc> {
  if (!compact.endsWith('~')) fail('an issued SD-JWT must end in ~ (no key-binding JWT)');
  const parts = compact.split('~');
  const jws = parts[0];
  const disclosures = parts.slice(1, -1);

  let header;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    fail('the JWT header does not decode');
  }
  if (!TYPES.includes(header.typ ?? '')) fail(`typ must be one of ${TYPES.join(', ')}`);
  if (header.kid !== undefined) fail('the header must not carry both x5c and kid');
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) fail('the header has no x5c');
  let chain: X509Certificate[];
  try {
    chain = header.x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    fail('an x5c certificate does not parse');
  }
  const leaf = chain[0];

  let payload: Record<string, unknown>;
  try {
    const verified = await compactVerify(jws, leaf.publicKey, { algorithms: ALGORITHMS });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch {
    fail('the issuer signature does not verify');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) fail('the payload is not a JSON object');

  const nowMs = opts.now * 1000;
  checkChain(chain, opts.trustAnchors, nowMs);
  const info = certificateInfo(leaf);
  if (info.digitalSignature !== true) fail('the issuer certificate lacks the digitalSignature key usage');

  const vct = payload.vct;
  if (typeof vct !== 'string' || vct.split('.').length !== 3 || vct.split('.').some((p) => p === '')) {
    fail('vct must be a credential type id <scheme>.<issuer>.<credential>');
  }
  const iss = payload.iss;
  if (typeof iss !== 'string' || !info.uris.includes(iss)) fail('iss must be a URI of the issuer certificate');
  const iat = integer(payload.iat, 'iat');
  const exp = integer(payload.exp, 'exp');
  if (iat > opts.now + CLOCK_SKEW_SECONDS) fail('iat lies in the future');
  if (exp < opts.now - CLOCK_SKEW_SECONDS) fail('the SD-JWT VC has expired');
  if (payload._sd_alg !== SD_ALG) fail(`_sd_alg must be ${SD_ALG}`);
  const sd = payload._sd ?? [];
  if (!Array.isArray(sd) || !sd.every((d) => typeof d === 'string')) fail('_sd must be a list of digests');
  const cnf = payload.cnf as { jwk?: unknown } | undefined;
  if (typeof cnf !== 'object' || cnf === null) fail('cnf is missing');
  let key: HolderJwk;
  try {
    key = parseHolderKey(cnf.jwk, 'cnf.jwk');
  } catch (e) {
    fail((e as Error).message);
  }
  if (opts.holderKey && !sameHolderKey(key, opts.holderKey)) fail('cnf.jwk is not the key sent for this instance');

  const digests = new Set(sd as string[]);
  if (digests.size !== sd.length) fail('_sd lists a digest twice');
  const claims: Record<string, unknown> = {};
  const used = new Set<string>();
  for (const d of disclosures) {
    const digest = disclosureDigest(d);
    if (!digests.has(digest)) fail('a disclosure has no digest in _sd');
    if (used.has(digest)) fail('a disclosure occurs twice');
    used.add(digest);
    const arr = decodeJson(d, 'a disclosure');
    if (!Array.isArray(arr) || arr.length !== 3 || typeof arr[0] !== 'string' || typeof arr[1] !== 'string') {
      fail('a disclosure is not [salt, name, value]');
    }
    const name = arr[1] as string;
    if (name === '_sd' || name === '...' || Object.hasOwn(payload, name) || Object.hasOwn(claims, name)) {
      fail(`disclosure of claim ${name} clashes with another claim`);
    }
    claims[name] = arr[2];
  }
  return { vct, iss, iat, exp, cnf: key, claims };
}
