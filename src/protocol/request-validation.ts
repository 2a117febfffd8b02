// Checking a parsed requestor request against the loaded schemes before a session starts
// (spec §3.2 step 6, §7.1, §7.3), in the reference's order and with its messages, and filling
// what the server decides for issuance: key counter, default validity, random-blind names.
import type { CredentialType, SchemeRegistry } from '../scheme/types.js';
import { attributeRequests, checkConDisConSingletons } from './condiscon.js';
import { MAX_SD_JWT_BATCH_SIZE, type CredentialRequest } from './credential-request.js';
import { ProtocolError } from './errors.js';
import { credentialTypeOf, isCredentialId, issuerOf, nameOf, schemeOf } from './identifiers.js';
import { LD_CONTEXT, type RequestorRequest, type SessionRequest } from './requests.js';

export interface RequestValidationOptions {
  /** Unix seconds. */
  now: number;
  /** The server option augment_client_return_url. */
  augmentClientReturnUrl?: boolean;
  /** Whether revocation_settings name a revocation server for this credential type. */
  revocationServerConfigured?: (credentialTypeId: string) => boolean;
}

/** Months a credential is valid when the requestor gives no validity. */
const DEFAULT_CREDENTIAL_VALIDITY_MONTHS = 6;

function invalid(message: string): ProtocolError {
  return new ProtocolError('INVALID_REQUEST', message);
}

/** Adds calendar months the way Go's AddDate does (day overflow rolls into the next month). */
export function addMonths(unixSeconds: number, months: number): number {
  const d = new Date(unixSeconds * 1000);
  d.setUTCMonth(d.getUTCMonth() + months);
  return Math.floor(d.getTime() / 1000);
}

class IdentifierSet {
  readonly schemes = new Set<string>();
  readonly issuers = new Set<string>();
  readonly publicKeys = new Set<string>();
  readonly credentialTypes = new Set<string>();
  readonly attributeTypes = new Set<string>();

  get empty(): boolean {
    return this.list().length === 0;
  }

  list(): string[] {
    return [...this.schemes, ...this.issuers, ...this.publicKeys, ...this.credentialTypes, ...this.attributeTypes];
  }
}

function attributeNamed(type: CredentialType, name: string) {
  return type.attributes.find((a) => a.shortId === name);
}

/** Every identifier the request names must be known; issuance must name all required attributes. */
function checkIdentifiers(request: SessionRequest, schemes: SchemeRegistry): void {
  const credentials = request['@context'] === LD_CONTEXT.issuing ? request.credentials : [];
  const disclosed = [...attributeRequests(request.disclose)].map((r) => r.type);

  const missing = new IdentifierSet();
  for (const id of [...credentials.map((c) => c.credential), ...disclosed]) {
    if (!schemes.scheme(schemeOf(id))) missing.schemes.add(schemeOf(id));
  }
  if (!missing.empty) throw invalid(`Unknown identifiers: ${missing.list().join(', ')}`);

  const requiredMissing = new IdentifierSet();
  for (const c of credentials) {
    const issuer = issuerOf(c.credential);
    if (!schemes.issuer(issuer)) missing.issuers.add(issuer);
    else if (!schemes.publicKey(issuer, c.keyCounter ?? 0)) missing.publicKeys.add(`${issuer}-${c.keyCounter ?? 0}`);
    const type = schemes.credentialType(c.credential);
    if (!type) {
      missing.credentialTypes.add(c.credential);
      continue;
    }
    for (const name of Object.keys(c.attributes)) {
      if (!attributeNamed(type, name)) missing.attributeTypes.add(`${c.credential}.${name}`);
    }
    for (const a of type.attributes) {
      if (!Object.hasOwn(c.attributes, a.shortId) && !a.revocation && !a.randomBlind && !a.optional) {
        requiredMissing.attributeTypes.add(a.id);
      }
    }
  }
  for (const id of disclosed) {
    const credId = credentialTypeOf(id);
    if (!schemes.issuer(issuerOf(credId))) missing.issuers.add(issuerOf(credId));
    const type = schemes.credentialType(credId);
    if (!type) missing.credentialTypes.add(credId);
    else if (!isCredentialId(id) && !attributeNamed(type, nameOf(id))) missing.attributeTypes.add(id);
  }
  if (!missing.empty) throw invalid(`Unknown identifiers: ${missing.list().join(', ')}`);
  if (!requiredMissing.empty) throw invalid(`Required attributes are missing: ${requiredMissing.list().join(', ')}`);
}

function checkRevocationParameters(request: SessionRequest, schemes: SchemeRegistry): void {
  for (const id of Object.keys(request.revocation ?? {})) {
    const type = schemes.credentialType(id);
    // (sic) the reference's typo, kept so requestors see the same text
    if (!type) throw invalid(`cannot requet nonrevocation proof for ${id}: unknown credential type`);
    if (!type.revocationSupported) throw invalid(`cannot request nonrevocation proof for ${id}: revocation not enabled in scheme`);
  }
}

function checkReturnUrlAugmentation(request: SessionRequest, opts: RequestValidationOptions): void {
  if (!request.augmentReturnUrl) return;
  if (!opts.augmentClientReturnUrl) throw invalid('augmenting client return url not enabled in server configuration');
  if (!request.clientReturnUrl) throw invalid('cannot augment empty client return url');
}

function prepareCredential(
  c: CredentialRequest,
  schemes: SchemeRegistry,
  opts: RequestValidationOptions,
): CredentialRequest {
  const type = schemes.credentialType(c.credential) as CredentialType; // known: checked above
  const out: CredentialRequest = { ...c, attributes: { ...c.attributes } };
  const randomBlind = type.attributes.filter((a) => a.randomBlind).map((a) => a.shortId);
  if (randomBlind.length > 0) out.randomblindIDs = randomBlind;
  else delete out.randomblindIDs;

  const issuer = issuerOf(c.credential);
  const sk = schemes.latestPrivateKey(issuer);
  if (!sk) throw invalid(`missing private key of issuer ${issuer}`);
  const pk = schemes.publicKey(issuer, sk.counter);
  if (!pk) throw invalid(`missing public key of issuer ${issuer}`);
  if (opts.now > pk.expiryDate) throw invalid(`cannot issue using expired public key ${issuer}-${sk.counter}`);
  if (sk.counter) out.keyCounter = sk.counter;
  else delete out.keyCounter;

  if (type.revocationSupported) {
    if (!opts.revocationServerConfigured?.(c.credential)) {
      throw invalid(`revocation enabled for ${c.credential} but no revocation server configured`);
    }
    if (!c.revocationKey) throw invalid(`revocation enabled for ${c.credential} but no revocationKey specified`);
  } else if (c.revocationKey) {
    // The app would expect a witness that never comes and fail the issuance (digest pitfall 10).
    throw invalid(`revocationKey specified for ${c.credential}, which does not support revocation`);
  }
  for (const a of type.attributes) {
    if (!Object.hasOwn(c.attributes, a.shortId)) continue;
    if (a.revocation) throw invalid('revocation attribute cannot be set in credential request');
    if (a.randomBlind) throw invalid('randomblind attribute cannot be set in credential request');
  }

  if (out.validity === undefined) out.validity = addMonths(opts.now, DEFAULT_CREDENTIAL_VALIDITY_MONTHS);
  if (out.validity < opts.now) throw invalid('cannot issue expired credentials');
  if ((c.sdJwtBatchSize ?? 0) > MAX_SD_JWT_BATCH_SIZE) {
    throw invalid(
      `requested number of sdjwts (${c.sdJwtBatchSize}) is higher than maximum allowed amount (${MAX_SD_JWT_BATCH_SIZE}) for ${c.credential}`,
    );
  }
  return out;
}

/**
 * Checks a requestor request against the schemes and returns a copy ready to start: for
 * issuance with keyCounter, validity and randomblindIDs filled. Failures are INVALID_REQUEST
 * carrying the reference's message. For a frozen request the copy is frozen too, and the same each time.
 */
export function validateRequestorRequest(
  rr: RequestorRequest,
  schemes: SchemeRegistry,
  opts: RequestValidationOptions,
): RequestorRequest {
  // Issuance fills in values that depend on the time; the other checks depend only on these.
  if (!Object.isFrozen(rr) || rr.request['@context'] === LD_CONTEXT.issuing) return validate(rr, schemes, opts);
  const augment = opts.augmentClientReturnUrl ?? false;
  const known = validatedFrozen.get(rr);
  if (known !== undefined && known.schemes === schemes && known.augment === augment) return known.result;
  const result = validate(rr, schemes, opts);
  Object.freeze(result.request);
  validatedFrozen.set(rr, { schemes, augment, result: Object.freeze(result) });
  return result;
}

/**
 * Frozen requests (a body parsed once for many sessions) and what their check gave, for as long as
 * the request lives: a scheme update brings a new registry, which is checked again.
 */
const validatedFrozen = new WeakMap<RequestorRequest, { schemes: SchemeRegistry; augment: boolean; result: RequestorRequest }>();

function validate(rr: RequestorRequest, schemes: SchemeRegistry, opts: RequestValidationOptions): RequestorRequest {
  // Nothing below edits what it was given: the credentials it fills are new objects.
  const request = { ...rr.request };
  checkIdentifiers(request, schemes);
  checkRevocationParameters(request, schemes);
  checkReturnUrlAugmentation(request, opts);
  checkConDisConSingletons(request.disclose, schemes);
  if (request['@context'] === LD_CONTEXT.issuing) {
    request.credentials = request.credentials.map((c) => prepareCredential(c, schemes, opts));
  }
  return { ...rr, request };
}
