// Who is starting a session, and what they ask for (spec §3.1, §4.1, §4.2).
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { ProtocolError } from '../protocol/errors.js';
import { parseRequestorRequestText } from '../protocol/request-body.js';
import { parseRequestorJwtClaims } from '../protocol/requestor-jwt.js';
import { checkJsonBounds } from '../protocol/json-bounds.js';
import { checkRequestShape } from '../protocol/request-shape.js';
import { jsonBoundsOf, limitsOf, type Limits } from './limits.js';
import { LD_CONTEXT, type RequestorRequest } from '../protocol/requests.js';
import { RequestMemo } from './request-memo.js';
import { sameSecret } from '../session/tokens.js';
import { loadJose } from './jose.js';
import type { ServerOptions, RequestorOptions } from './options.js';

export interface AuthenticatedRequest {
  /** "" when no authentication is configured. */
  requestor: string;
  request: RequestorRequest;
}

const NOT_AUTHENTICATED = 'request could not be authenticated';

export class RequestorAuthenticator {
  readonly #publicKeys = new Map<string, KeyObject>();
  readonly #limits: Limits;
  readonly #parsed = new RequestMemo<RequestorRequest>();

  constructor(
    private readonly options: ServerOptions,
    private readonly clock: () => number,
  ) {
    this.#limits = limitsOf(options);
  }

  /** Dispatch: JSON with a header -> token; text/plain -> a JWS, checked as its `alg` and requestor say. */
  async authenticate(contentType: string | undefined, authorization: string | undefined, body: string): Promise<AuthenticatedRequest> {
    return this.authenticateAs(
      contentType,
      authorization,
      body,
      (text, requestor) =>
        this.#parsed.parse(
          requestor,
          text,
          (t) => parseRequestorRequestText(t, this.#limits),
          (rr) => rr.request['@context'] !== LD_CONTEXT.issuing,
        ),
      (payload) => {
        checkRequestShape(payload, this.#limits);
        return parseRequestorJwtClaims(payload).request;
      },
    );
  }

  /**
   * The same authentication for another body (POST /revocation): `fromText` parses a JSON body
   * (told whose it is), `fromClaims` a verified JWT's claims. The requestor is always the one
   * whose key verified.
   */
  async authenticateAs<T>(
    contentType: string | undefined,
    authorization: string | undefined,
    body: string,
    fromText: (text: string, requestor: string) => T,
    fromClaims: (payload: JWTPayload) => T,
  ): Promise<{ requestor: string; request: T }> {
    const type = (contentType ?? '').toLowerCase();
    if (type.startsWith('application/json')) return this.#json(authorization, body, fromText);
    if (type.startsWith('text/plain')) return this.#jwt(authorization, body, fromClaims);
    throw new ProtocolError('INVALID_REQUEST', `Unsupported Content-Type: ${contentType ?? ''}`);
  }

  #json<T>(authorization: string | undefined, body: string, fromText: (text: string, requestor: string) => T): { requestor: string; request: T } {
    if (this.options.noAuth) {
      if (authorization !== undefined) throw new ProtocolError('INVALID_REQUEST', NOT_AUTHENTICATED);
      return { requestor: '', request: fromText(body, '') };
    }
    if (authorization === undefined) throw new ProtocolError('INVALID_REQUEST', NOT_AUTHENTICATED);
    // Every configured token is compared, so the time taken does not reveal which one matched.
    let requestor: string | undefined;
    for (const [name, r] of Object.entries(this.options.requestors)) {
      if (r.authMethod === 'token' && sameSecret(authorization, r.key) && requestor === undefined) requestor = name;
    }
    if (requestor === undefined) throw new ProtocolError('UNAUTHORIZED');
    return { requestor, request: fromText(body, requestor) };
  }

  async #jwt<T>(authorization: string | undefined, body: string, fromClaims: (payload: JWTPayload) => T): Promise<{ requestor: string; request: T }> {
    if (this.options.noAuth || authorization !== undefined) throw new ProtocolError('INVALID_REQUEST', NOT_AUTHENTICATED);
    const jwt = body.trim();
    // jose parses the payload before the signature is checked: its size must be known first.
    const payloadText = Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8');
    checkJsonBounds(payloadText, jsonBoundsOf(this.#limits), 'INVALID_REQUEST');
    const { decodeJwt, decodeProtectedHeader, jwtVerify } = await loadJose();
    let header: { alg?: string; kid?: string };
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(jwt);
      unverified = decodeJwt(jwt);
    } catch {
      throw new ProtocolError('INVALID_REQUEST', 'invalid JWT');
    }
    const name = header.kid ?? unverified.iss ?? '';
    const requestor = Object.hasOwn(this.options.requestors, name) ? this.options.requestors[name] : undefined;
    if (!requestor) throw new ProtocolError('INVALID_REQUEST', `Unknown requestor: ${name}`);
    const alg = requestor.authMethod === 'hmac' ? 'HS256' : requestor.authMethod === 'publickey' ? 'RS256' : undefined;
    if (!alg || header.alg !== alg) throw new ProtocolError('INVALID_REQUEST', NOT_AUTHENTICATED);

    const nowMs = this.clock();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, this.#key(name, requestor), {
        algorithms: [alg],
        currentDate: new Date(nowMs),
      }));
    } catch (err) {
      throw new ProtocolError('INVALID_REQUEST', `invalid JWT: ${(err as { code?: string }).code ?? 'verification failed'}`);
    }
    const now = Math.floor(nowMs / 1000);
    const iat = typeof payload.iat === 'number' ? payload.iat : 0;
    if (iat + this.options.maxRequestAge < now) throw new ProtocolError('UNAUTHORIZED', 'jwt too old');
    if (iat > now) throw new ProtocolError('INVALID_REQUEST', 'jwt issued in the future');

    return { requestor: name, request: fromClaims(payload) };
  }

  #key(name: string, requestor: RequestorOptions): KeyObject | Uint8Array {
    if (requestor.authMethod === 'hmac') return Buffer.from(requestor.key, 'base64');
    let key = this.#publicKeys.get(name);
    if (!key) {
      try {
        key = createPublicKey(requestor.key);
      } catch {
        throw new ProtocolError('INTERNAL_ERROR', 'requestor public key unusable');
      }
      this.#publicKeys.set(name, key);
    }
    return key;
  }
}
