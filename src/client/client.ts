// The headless IRMA client: the holder's side of a session, as the Yivi app runs it. It follows
// a session pointer, negotiates the protocol, waits out pairing, chooses credentials, proves,
// checks what the issuer sends back, stores new credentials and follows chained sessions.
import { createHash } from 'node:crypto';
import { encodeB64 } from '../idemix/bigint.js';
import { IdemixError } from '../idemix/errors.js';
import type { PublicKey } from '../idemix/keys.js';
import type { SchemeRegistry } from '../scheme/types.js';
import { chooseDefault, disclosureCandidates, type Candidates, type DisclosureChoice } from './candidates.js';
import { planDisclosure, type DisclosurePlan } from './disclosure-plan.js';
import { ClientError } from './errors.js';
import {
  CONTEXT,
  parseClientSessionRequest,
  parseQr,
  parseServerSessionResponse,
  parseSessionRequest,
  type ProofStatus,
  type Qr,
  type SessionRequest,
  type SessionType,
} from './messages.js';
import { waitWhilePairing } from './pairing.js';
import {
  commitIssuance,
  completeIssuance,
  loadHeldCredentials,
  proveDisclosure,
  type HeldCredential,
  type IssuanceCommitment,
  type IssuanceTarget,
} from './proving.js';
import { checkSdJwtVcs, holderKeyPairs, type HolderKeyPair } from './sdjwt-issuance.js';
import { SdJwtVcStorage, type StoredSdJwtVc } from './sdjwt-storage.js';
import { CredentialStorage, type StoredCredential } from './storage.js';
import { requestTimestamp } from './timestamp.js';
import { newClientAuthorization, Transport, type FetchFn } from './transport.js';
import { readCredential, type WalletCredential } from './wallet.js';
import { updateWitnesses } from './revocation.js';

export const MIN_PROTOCOL_VERSION = '2.4';
/** The reference client asks at least 2.5 for signatures: the condiscon signature format. */
export const MIN_SIGNING_PROTOCOL_VERSION = '2.5';
export const MAX_PROTOCOL_VERSION = '2.8';

export interface IrmaClientOptions {
  storageDir: string;
  schemes: SchemeRegistry;
  fetch?: FetchFn;
  /**
   * Where signatures get their atum timestamp: a server URL, or 'scheme' for the scheme's
   * TimestampServer. Absent: signatures carry `"timestamp": null`.
   */
  timestampServer?: string;
  /** Clock in Unix seconds (expiry checks, issuance dates). */
  now?: () => number;
  /** Polling interval while waiting for pairing without server-sent events. */
  pairingPollIntervalMs?: number;
  /** Per-request HTTP deadline. */
  requestTimeoutMs?: number;
  /**
   * Take part in SD-JWT VC issuance, trusting issuer certificates issued by these PEM certificates
   * (the app's trust list). Absent: like an app before 7.10, no holder keys are sent and only the
   * Idemix credentials come back.
   */
  sdJwtVc?: { trustAnchors: string[] };
}

export interface ChoiceContext {
  type: SessionType;
  request: SessionRequest;
  candidates: Candidates;
}

export interface PermissionContext {
  type: SessionType;
  request: SessionRequest;
  choice: DisclosureChoice;
}

export interface SessionHandlers {
  /** Picks one option per disjunction; default: chooseDefault. */
  choose?: (ctx: ChoiceContext) => DisclosureChoice | Promise<DisclosureChoice>;
  /** Returning false refuses the session (DELETE). Default: consent. */
  permission?: (ctx: PermissionContext) => boolean | Promise<boolean>;
  /** Called with the pairing code once the client waits for the frontend to confirm it. */
  pairing?: (code: string) => unknown;
  /** Follow a `nextSession` in the server's answer (default true). */
  followNextSession?: boolean;
}

export interface SessionOutcome {
  type: SessionType;
  status: 'DONE' | 'CANCELLED';
  proofStatus?: ProofStatus;
  /** What was disclosed, per disjunction of the request (earlier sessions of a chain excluded). */
  disclosed?: DisclosureChoice;
  /** Ids of the credentials stored by an issuance session. */
  issued?: string[];
  /** How many SD-JWT VCs an issuance session stored. */
  sdJwtVcs?: number;
  /** The SignedMessage of a signing session, as sent. */
  signature?: Record<string, unknown>;
  clientReturnUrl?: string;
  /** The pointer of a chained session the server announced. */
  nextSession?: Qr;
  /** The outcome of that chained session, when followed. */
  next?: SessionOutcome;
}

interface ProofResponse {
  path: 'proofs' | 'commitments';
  body: Record<string, unknown>;
  issuance?: IssuanceCommitment;
  /** The key pairs whose public halves went out in `keybinding_pub_keys`. */
  holderKeys?: HolderKeyPair[];
}

function credentialId(type: string, attributes: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify([type, ...attributes])).digest('hex');
}

/** A session pointer, its JSON, or a whole session package (its `sessionPtr` is used). */
function asQr(input: string | object): Qr {
  let parsed: unknown = input;
  if (typeof input === 'string') {
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new ClientError('invalidRequest', 'session pointer is not JSON');
    }
  }
  if (typeof parsed === 'object' && parsed !== null && 'sessionPtr' in parsed) parsed = parsed.sessionPtr;
  return parseQr(parsed);
}

function cryptoError(err: unknown): never {
  if (err instanceof ClientError) throw err;
  if (err instanceof IdemixError) throw new ClientError('crypto', err.message, { cause: err });
  throw err;
}

export class IrmaClient {
  readonly schemes: SchemeRegistry;
  private readonly opts: IrmaClientOptions;
  private storagePromise?: Promise<CredentialStorage>;
  private sdJwtStoragePromise?: Promise<SdJwtVcStorage>;

  constructor(opts: IrmaClientOptions) {
    this.opts = opts;
    this.schemes = opts.schemes;
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Math.floor(Date.now() / 1000);
  }

  private storage(): Promise<CredentialStorage> {
    this.storagePromise ??= CredentialStorage.open(this.opts.storageDir);
    return this.storagePromise;
  }

  private sdJwtStorage(): Promise<SdJwtVcStorage> {
    this.sdJwtStoragePromise ??= SdJwtVcStorage.open(this.opts.storageDir);
    return this.sdJwtStoragePromise;
  }

  /** The SD-JWT VCs in the wallet, each with the private key it is bound to. */
  async sdJwtVcs(): Promise<readonly StoredSdJwtVc[]> {
    return (await this.sdJwtStorage()).list();
  }

  /** The credentials in the wallet, read through the schemes. */
  async credentials(): Promise<WalletCredential[]> {
    const s = await this.storage();
    return s.list().map((c) => readCredential(c, this.schemes));
  }

  /**
   * Runs the session behind a session pointer (a Qr, its JSON, or a session package) to its end.
   * Throws ClientError when it cannot be completed; a refusal returns status CANCELLED.
   */
  async runSession(pointer: string | object, handlers: SessionHandlers = {}): Promise<SessionOutcome> {
    return this.run(asQr(pointer), handlers, [], 0);
  }

  private async run(qr: Qr, handlers: SessionHandlers, implicit: DisclosureChoice, redirects: number): Promise<SessionOutcome> {
    if (qr.irmaqr === 'redirect') {
      if (redirects > 0) throw new ClientError('invalidRequest', 'a static session pointer led to another one');
      // A static QR: POST {} to it and get the pointer of a fresh session back.
      const t = new Transport(qr.u, { fetch: this.opts.fetch, timeoutMs: this.opts.requestTimeoutMs, exact: true });
      const next = parseQr(await t.post('', {}));
      return this.run(next, handlers, implicit, redirects + 1);
    }
    const type = qr.irmaqr;
    const transport = new Transport(qr.u, {
      fetch: this.opts.fetch,
      timeoutMs: this.opts.requestTimeoutMs,
      headers: {
        'X-IRMA-MinProtocolVersion': type === 'signing' ? MIN_SIGNING_PROTOCOL_VERSION : MIN_PROTOCOL_VERSION,
        'X-IRMA-MaxProtocolVersion': MAX_PROTOCOL_VERSION,
        Authorization: newClientAuthorization(),
      },
    });

    try {
      const info = parseClientSessionRequest(await transport.get(''), type);
      if (info.protocolVersion !== MAX_PROTOCOL_VERSION) {
        throw new ClientError('invalidRequest', `server chose unsupported protocol version ${info.protocolVersion}`);
      }
      let request = info.request;
      if (info.pairingMethod === 'pin') {
        const code = info.pairingCode as string;
        const status = await waitWhilePairing(transport, () => handlers.pairing?.(code), {
          pollIntervalMs: this.opts.pairingPollIntervalMs,
        });
        if (status !== 'CONNECTED') throw new ClientError('pairingRejected', `pairing ended in status ${status}`);
        request = parseSessionRequest(await transport.get('request'), type);
      }
      return await this.perform(transport, type, request as SessionRequest, handlers, implicit);
    } catch (err) {
      // Like the app: any failure ends the session on the server too (a no-op once it is over).
      await transport.delete('').catch(() => undefined);
      throw err;
    }
  }

  private checkIdentifiers(request: SessionRequest): void {
    for (const discon of request.disclose) {
      for (const con of discon) {
        for (const ar of con) {
          const known = ar.type.split('.').length === 3 ? this.schemes.credentialType(ar.type) : this.schemes.attributeType(ar.type);
          if (!known) throw new ClientError('unknownIdentifier', `unknown identifier ${ar.type}`);
        }
      }
    }
  }

  private issuanceTargets(request: SessionRequest): IssuanceTarget[] {
    return (request.credentials ?? []).map((cr) => {
      const type = this.schemes.credentialType(cr.credential);
      if (!type) throw new ClientError('unknownIdentifier', `unknown credential type ${cr.credential}`);
      if (cr.revocationSupported !== type.revocationSupported) {
        throw new ClientError('invalidRequest', `revocation support of ${cr.credential} differs from the scheme`);
      }
      const publicKey: PublicKey | undefined = this.schemes.publicKey(type.issuerId, cr.keyCounter);
      if (!publicKey) throw new ClientError('unknownIdentifier', `unknown public key ${type.issuerId}-${cr.keyCounter}`);
      if (publicKey.expiryDate < this.now()) {
        throw new ClientError('invalidRequest', `public key ${type.issuerId}-${cr.keyCounter} has expired`);
      }
      for (const name of Object.keys(cr.attributes)) {
        const attr = type.attributes.find((a) => a.shortId === name);
        if (!attr || attr.randomBlind || attr.revocation) {
          throw new ClientError('invalidRequest', `credential ${cr.credential} has no settable attribute ${name}`);
        }
      }
      for (const attr of type.attributes) {
        if (!attr.optional && !attr.randomBlind && !attr.revocation && (cr.attributes[attr.shortId] ?? null) === null) {
          throw new ClientError('invalidRequest', `credential ${cr.credential} lacks attribute ${attr.shortId}`);
        }
      }
      return { request: cr, type, publicKey };
    });
  }

  private async perform(
    transport: Transport,
    type: SessionType,
    request: SessionRequest,
    handlers: SessionHandlers,
    implicit: DisclosureChoice,
  ): Promise<SessionOutcome> {
    this.checkIdentifiers(request);
    const targets = type === 'issuing' ? this.issuanceTargets(request) : [];
    const storage = await this.storage();
    const revocation = new Set(Object.keys(request.revocation ?? {}));
    if (request.revocation) await updateWitnesses(storage, this.schemes, request.revocation, this.opts.fetch);
    // Revoked credentials are never offered; without a witness none can prove non-revocation.
    const usable = storage.list().filter((c) => !c.witness?.revoked && (!revocation.has(c.credentialType) || c.witness));
    const wallet = usable.map((c) => readCredential(c, this.schemes));
    const candidates = disclosureCandidates(request.disclose, wallet, { now: this.now(), skipExpiryCheck: request.skipExpiryCheck });
    const choice = handlers.choose ? await handlers.choose({ type, request, candidates }) : chooseDefault(candidates);
    if (!Array.isArray(choice) || choice.length !== request.disclose.length) {
      throw new ClientError('requiredAttributeMissing', 'the choice does not answer every disjunction of the request');
    }
    const base: SessionOutcome = { type, status: 'CANCELLED', clientReturnUrl: request.clientReturnUrl };
    if (handlers.permission && !(await handlers.permission({ type, request, choice }))) {
      await transport.delete('');
      return base;
    }

    // In a chain, everything disclosed earlier is disclosed again (the server appended it).
    const fullChoice = [...choice, ...implicit];
    const plan = planDisclosure(fullChoice, this.schemes);
    const held = loadHeldCredentials(plan, storage, this.schemes);

    let response: ProofResponse;
    try {
      response = await this.respond(type, request, plan, held, storage.secretKey, targets, revocation);
    } catch (err) {
      cryptoError(err);
    }

    const answer = parseServerSessionResponse(await transport.post(response.path, response.body));
    if (answer.proofStatus !== 'VALID') {
      throw new ClientError('rejected', `the server judged our proofs ${answer.proofStatus}`, { proofStatus: answer.proofStatus });
    }
    const outcome: SessionOutcome = { ...base, status: 'DONE', proofStatus: answer.proofStatus, disclosed: choice };
    if (type === 'signing') outcome.signature = response.body;
    if (response.issuance) outcome.issued = await this.acceptCredentials(storage, targets, response.issuance.state, answer.sigs);
    // Like the app: the Idemix credentials are stored first, whatever becomes of the SD-JWT VCs.
    // A server that does not issue SD-JWT VCs (older, or not configured) ignores the keys: as the
    // app, accept the Idemix credentials alone. Some but not all SD-JWT VCs is an error.
    if (response.holderKeys && answer.sdjwts.length > 0) {
      const sdStorage = await this.sdJwtStorage();
      const checked = await checkSdJwtVcs({
        sdjwts: answer.sdjwts,
        credentials: request.credentials ?? [],
        keys: response.holderKeys,
        trustAnchors: this.opts.sdJwtVc?.trustAnchors ?? [],
        now: this.now(),
      });
      await sdStorage.add(checked);
      outcome.sdJwtVcs = checked.length;
    }
    if (answer.nextSession) {
      outcome.nextSession = answer.nextSession;
      if (handlers.followNextSession ?? true) outcome.next = await this.run(answer.nextSession, handlers, fullChoice, 0);
    }
    return outcome;
  }

  /** The body for POST proofs (disclosure, SignedMessage) or POST commitments (issuance). */
  private async respond(
    type: SessionType,
    request: SessionRequest,
    plan: DisclosurePlan,
    held: Map<string, HeldCredential>,
    secretKey: bigint,
    targets: IssuanceTarget[],
    revocation: ReadonlySet<string>,
  ): Promise<ProofResponse> {
    const { context, nonce } = request;
    if (type === 'issuing') {
      const issuance = commitIssuance({ plan, held, secretKey, context, nonce, targets, revocation });
      const holderKeys = this.opts.sdJwtVc ? holderKeyPairs(request.credentials ?? []) : [];
      if (holderKeys.length === 0) return { path: 'commitments', body: issuance.message, issuance };
      const body = { ...issuance.message, keybinding_pub_keys: holderKeys.map((k) => k.pub) };
      return { path: 'commitments', body, issuance, holderKeys };
    }
    if (type === 'disclosing') {
      const { proofs } = await proveDisclosure({ plan, held, context, nonce, revocation });
      return { path: 'proofs', body: { proofs, indices: plan.indices } };
    }
    const message = request.message as string;
    const url = this.timestampUrl([...held.values()].map((h) => h.type.schemeId));
    const fetchFn = this.opts.fetch;
    const timestamp = url ? (T: Buffer) => requestTimestamp(url, T, fetchFn) : undefined;
    const signed = await proveDisclosure({ plan, held, context, nonce, revocation, signature: { message, timestamp } });
    return {
      path: 'proofs',
      body: {
        '@context': CONTEXT.signature,
        signature: signed.proofs,
        indices: plan.indices,
        nonce: encodeB64(nonce),
        context: encodeB64(context),
        message,
        timestamp: signed.timestamp,
      },
    };
  }

  /** Checks the issuer's signatures, then stores all new credentials at once; returns their ids. */
  private async acceptCredentials(
    storage: CredentialStorage,
    targets: IssuanceTarget[],
    state: IssuanceCommitment['state'],
    sigs: unknown[],
  ): Promise<string[]> {
    if (sigs.length !== targets.length) {
      throw new ClientError('invalidRequest', `expected ${targets.length} issuance signatures, got ${sigs.length}`);
    }
    const issuedAt = this.now();
    let creds: StoredCredential[];
    try {
      const signed = completeIssuance(state, sigs, targets, issuedAt);
      const storedAt = Date.now();
      creds = signed.map((s, i) => {
        const attributes = s.attributes.map(encodeB64);
        return {
          id: credentialId(targets[i].type.id, attributes),
          credentialType: targets[i].type.id,
          keyCounter: targets[i].publicKey.counter,
          signature: { A: encodeB64(s.signature.A), e: encodeB64(s.signature.e), v: encodeB64(s.signature.v) },
          attributes,
          storedAt,
          ...(s.witness ? { witness: s.witness } : {}),
        };
      });
    } catch (err) {
      cryptoError(err);
    }
    await this.store(storage, creds);
    return creds.map((c) => c.id);
  }

  /** Adds credentials as irmaclient does: a singleton type keeps one; equal values replace. */
  private async store(storage: CredentialStorage, creds: StoredCredential[]): Promise<void> {
    await storage.update((current) => {
      let list = [...current];
      for (const c of creds) {
        const type = this.schemes.credentialType(c.credentialType);
        list = list.filter(
          (old) =>
            old.credentialType !== c.credentialType ||
            (!type?.singleton && JSON.stringify(old.attributes.slice(1)) !== JSON.stringify(c.attributes.slice(1))),
        );
        list.push(c);
      }
      return list;
    });
  }

  private timestampUrl(schemeIds: string[]): string | undefined {
    const configured = this.opts.timestampServer;
    if (!configured) return undefined;
    if (configured !== 'scheme') return configured;
    const urls = new Set(schemeIds.map((id) => this.schemes.scheme(id)?.timestampServer ?? ''));
    if (urls.has('') || urls.size !== 1) {
      throw new ClientError('timestamp', 'the disclosed credentials do not name one timestamp server');
    }
    return [...urls][0];
  }
}
