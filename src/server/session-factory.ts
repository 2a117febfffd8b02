// Starting a session from an authorized requestor request (spec §3.2 steps 6–7, §7.4).
import { encodeB64 } from '../idemix/bigint.js';
import { validateRequestorRequest } from '../protocol/request-validation.js';
import {
  requestForClient,
  sessionRequestToJson,
  sessionTypeOf,
  type RequestorRequest,
} from '../protocol/requests.js';
import {
  augmentedReturnUrl,
  frontendSessionRequest,
  generateNonce,
  pairingHint,
  sessionPointer,
  withServerFields,
  type SessionPackage,
} from '../protocol/session-start.js';
import { retention } from '../session/lifetimes.js';
import type { JsonObject, JsonValue, Session } from '../session/session.js';
import { newSessionTokens } from '../session/tokens.js';
import type { ServerContext } from './context.js';
import { checkSdJwtRequest } from './sdjwt-issuance.js';

export interface StartOptions {
  /** Name of the requestor ("" without authentication and for static sessions). */
  requestor: string;
  /** A chain keeps the frontend authorization of its first session. */
  frontendAuth?: string;
  /** What the previous session of a chain disclosed, required again at verification. */
  implicitDisclosure?: JsonValue[];
  /**
   * Fixes the session nonce instead of drawing a fresh one. Only for tests that replay
   * recorded app messages (bound to the recorded nonce); no HTTP route can set it.
   */
  nonce?: bigint;
}

export interface Started {
  package: SessionPackage;
  session: Session;
}

/** Where a session's `protocolVersion` goes in the app's request, so member order matches the reference. */
const VERSION_PLACEHOLDER = '2.8';

export async function startSession(ctx: ServerContext, rr: RequestorRequest, opts: StartOptions): Promise<Started> {
  const now = ctx.clock();
  const validated = validateRequestorRequest(rr, ctx.schemes, {
    now: Math.floor(now / 1000),
    augmentClientReturnUrl: ctx.options.augmentClientReturnUrl,
    revocationServerConfigured: (id) => ctx.revocation?.canIssue(id) ?? false,
  });
  checkSdJwtRequest(ctx, validated.request);
  const tokens = newSessionTokens(opts.frontendAuth);
  const request = withServerFields(validated.request, {
    nonce: opts.nonce === undefined ? generateNonce() : encodeB64(opts.nonce),
    devMode: !ctx.options.production,
  });
  const returnUrl = augmentedReturnUrl(request, tokens.requestorToken, ctx.options.augmentClientReturnUrl);
  if (returnUrl !== undefined) request.clientReturnUrl = returnUrl;
  const action = sessionTypeOf(request);
  const qr = sessionPointer(ctx.irmaUrl(), tokens.clientToken, action, request.host);
  const clientRequest = sessionRequestToJson(Object.assign({}, requestForClient(request), { protocolVersion: VERSION_PLACEHOLDER }));

  const session: Session = {
    clientToken: tokens.clientToken,
    requestorToken: tokens.requestorToken,
    frontendAuth: tokens.frontendAuth,
    action,
    requestor: opts.requestor,
    request: sessionRequestToJson(request) as JsonObject,
    clientRequest: clientRequest as JsonObject,
    nonce: request.nonce!,
    validity: validated.validity,
    timeout: validated.timeout ?? 0,
    status: 'INITIALIZED',
    options: { pairingMethod: 'none' },
    createdAt: now,
    lastActive: now,
    outcome: {},
  };
  if (validated.callbackUrl) session.callbackUrl = validated.callbackUrl;
  if (validated.nextSession?.url) session.nextSessionUrl = validated.nextSession.url;
  if (request.host) session.host = request.host;
  if (opts.implicitDisclosure?.length) session.implicitDisclosure = opts.implicitDisclosure;

  ctx.checker.warm?.(action);
  await ctx.store.create(session, retention(session, ctx.lifetimes, now));
  ctx.deadlines.watch(session);
  return {
    session,
    package: {
      sessionPtr: qr,
      token: tokens.requestorToken,
      frontendRequest: frontendSessionRequest(tokens.frontendAuth, pairingHint(validated)),
    },
  };
}
