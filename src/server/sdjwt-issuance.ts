// Where SD-JWT VC issuance meets the HTTP flow (sdjwtvc-issuance.md §3): the request's batch sizes
// are checked at POST /session, the holder keys when the commitments are parsed (a bad key is a
// bad body and leaves the session alone), and the SD-JWT VCs are made after the Idemix signatures
// (any failure then cancels the session with ISSUANCE_FAILED). Signing stays on this thread: a
// batch of 50 costs a few milliseconds (bench/sdjwt.bench.ts), less than handing it to a worker.
import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import type { CredentialRequest } from '../protocol/credential-request.js';
import { parseSessionRequestAs, type IssuanceRequest, type SessionRequest } from '../protocol/requests.js';
import { issueBatch, sdJwtRequestProblem, sdJwtTotal } from '../sdjwt/batch.js';
import { SdJwtError } from '../sdjwt/errors.js';
import { parseHolderKeys, type HolderJwk } from '../sdjwt/holder-key.js';
import type { SdJwtIssuers } from '../sdjwt/issuer-keys.js';
import type { JsonValue, Session } from '../session/session.js';
import type { ServerContext } from './context.js';
import { OptionsError, type SdJwtVcOptions } from './options.js';

/** POST /session: refuses what cannot be issued, instead of failing after the Idemix signatures. */
export function checkSdJwtRequest(ctx: ServerContext, request: SessionRequest): void {
  if (!('credentials' in request)) return;
  const problem = sdJwtRequestProblem(request.credentials, ctx.sdjwtIssuers);
  if (problem) throw new ProtocolError('INVALID_REQUEST', problem);
}

function credentialsOf(session: Session): CredentialRequest[] {
  return (parseSessionRequestAs('issuing', session.request) as IssuanceRequest).credentials;
}

/**
 * The holder keys of a commitments message, or undefined when no SD-JWT VCs are to be made (this
 * server does not issue them, the request asks for none, or the app sent no keys: an older app).
 */
export function sdJwtHolderKeys(ctx: ServerContext, session: Session, message: JsonValue): HolderJwk[] | undefined {
  if (!ctx.sdjwtIssuers || session.action !== 'issuing') return undefined;
  const keys = (message as Record<string, unknown>).keybinding_pub_keys;
  if (keys === undefined || keys === null || (Array.isArray(keys) && keys.length === 0)) return undefined;
  const total = sdJwtTotal(credentialsOf(session));
  if (total === 0) return undefined;
  if (!Array.isArray(keys)) throw new ProtocolError('MALFORMED_INPUT', 'keybinding_pub_keys must be a list');
  // More keys than SD-JWTs is the count mismatch below; no need to look at thousands of them.
  if (keys.length > total) return keys as HolderJwk[];
  try {
    return parseHolderKeys(keys);
  } catch (err) {
    if (err instanceof SdJwtError) throw new ProtocolError('MALFORMED_INPUT', err.message);
    throw err;
  }
}

/** The SD-JWT VCs of the session, one per holder key; ProtocolError ISSUANCE_FAILED when they cannot be made. */
export async function issueSdJwts(ctx: ServerContext, session: Session, keys: HolderJwk[], nowMs: number): Promise<string[]> {
  try {
    return await issueBatch({
      credentials: credentialsOf(session),
      keys,
      issuers: ctx.sdjwtIssuers ?? new Map(),
      iat: Math.floor(nowMs / 1000),
    });
  } catch (err) {
    if (err instanceof SdJwtError) throw new ProtocolError('ISSUANCE_FAILED', err.message);
    ctx.log.error({ err: { name: (err as Error)?.name } }, 'SD-JWT VC signing failed');
    throw new ProtocolError('ISSUANCE_FAILED', 'failed to generate sdjwts');
  }
}

/** Reads the configured issuer keys and chains; a file that cannot be used is a startup error naming it. */
export async function loadConfiguredSdJwtIssuers(o: SdJwtVcOptions, log: Pick<Logger, 'info' | 'warn'>): Promise<SdJwtIssuers> {
  let loaded;
  try {
    // Only with sdjwtvc configured: the certificate parsing (ASN.1) is ~1.5 MB of heap.
    const { loadSdJwtIssuers } = await import('../sdjwt/issuer-keys.js');
    loaded = await loadSdJwtIssuers(o);
  } catch (err) {
    if (err instanceof SdJwtError) throw new OptionsError(`sdjwtvc: ${err.message}`);
    throw err;
  }
  for (const w of loaded.warnings) log.warn(`sdjwtvc: ${w}`);
  log.info({ issuers: [...loaded.issuers.keys()] }, 'SD-JWT VC issuance enabled');
  return loaded.issuers;
}
