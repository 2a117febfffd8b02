// The session record: everything the server knows about one session, as one JSON-serialisable
// object. It is what the store keeps, so every process can continue any session.
import type { ErrorType } from '../protocol/errors.js';

export type SessionStatus = 'INITIALIZED' | 'PAIRING' | 'CONNECTED' | 'DONE' | 'CANCELLED' | 'TIMEOUT';
export type SessionAction = 'disclosing' | 'signing' | 'issuing';
export type ProofStatus =
  | 'VALID'
  | 'INVALID'
  | 'INVALID_TIMESTAMP'
  | 'UNMATCHED_REQUEST'
  | 'MISSING_ATTRIBUTES'
  | 'EXPIRED';

const FINAL_STATUSES: readonly SessionStatus[] = ['DONE', 'CANCELLED', 'TIMEOUT'];

export function isFinal(status: SessionStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An entry of the protocol's error table, by name; the server renders the RemoteError. */
export interface Failure {
  type: ErrorType;
  message?: string;
}

export interface PairingOptions {
  pairingMethod: 'none' | 'pin';
  pairingCode?: string;
}

/** Session pointer (irma.Qr). */
export interface Qr {
  u: string;
  irmaqr: string;
}

/** The last app request and its answer, so a retried request gets the same answer (§5.7). */
export interface ReplayEntry {
  /** Path after /irma/session/{ct}, e.g. "/proofs" ("" for the connect GET). */
  endpoint: string;
  /** Request body bytes (UTF-8). */
  message: string;
  responseStatus: number;
  /** Serialised JSON answer, replayed byte for byte. */
  response: string;
  /** Status right after handling; a replay is only valid while it is unchanged. */
  sessionStatus: SessionStatus;
}

/** What the verification of the app's proofs produced (kept for /result and the JWTs). */
export interface SessionOutcome {
  proofStatus?: ProofStatus;
  /** DisclosedAttribute lists as they appear in the SessionResult. */
  disclosed?: JsonValue[];
  /** The SignedMessage of a signature session. */
  signature?: JsonValue;
  /** Why the session was cancelled by a failure. */
  error?: Failure;
  /** Requestor token of the chained session started after this one. */
  nextSession?: string;
}

/**
 * One process's hold on the app's POST of proofs or commitments, so across processes only one
 * verifies it, posts to the next-session URL and commits; the others wait for its answer.
 */
export interface Claim {
  /** Random id of the attempt holding the claim. */
  claimant: string;
  /** Milliseconds since the epoch; past it the claimant is presumed dead and the claim may be taken over. */
  until: number;
  /** Digest of the claimed request (endpoint and body): only that request waits for its answer. */
  request: string;
  /**
   * Id of the server process holding the claim. Once that process is known to be dead (its
   * liveness key in the store expired) the claim is taken over before `until`.
   */
  process?: string;
}

// Structurally a StoredSession (src/store/store.ts): the store keys it by these two tokens.
export interface Session {
  clientToken: string;
  requestorToken: string;
  /** Authorization of the frontend endpoints; shared by every session of a chain. */
  frontendAuth: string;
  action: SessionAction;
  /** Name of the requestor that started the session ("" with no_auth or static sessions). */
  requestor: string;
  /** The validated session request including server-set fields (nonce, context, devMode, keyCounter...). */
  request: JsonObject;
  /** The request as the app receives it (e.g. revocationKey stripped); protocolVersion added at connect. */
  clientRequest: JsonObject;
  /** Copy of request.nonce: a proof verified against another nonce must not be committed. */
  nonce: string;
  /** Extended-request fields. */
  validity: number;
  /** Seconds to wait while INITIALIZED; 0 = max_session_lifetime. */
  timeout: number;
  callbackUrl?: string;
  nextSessionUrl?: string;
  /** Host the app must use (request `host`), checked against HTTP Host. */
  host?: string;
  status: SessionStatus;
  protocolVersion?: string;
  clientAuth?: string;
  options: PairingOptions;
  /** Milliseconds since the epoch. */
  createdAt: number;
  lastActive: number;
  outcome: SessionOutcome;
  replay?: ReplayEntry;
  /** Condiscon appended at verification: what the previous session of the chain disclosed. */
  implicitDisclosure?: JsonValue[];
  /** Pointer of the chained session, for the frontend and the app. */
  next?: Qr;
  /** Set while a process handles the app's POST (CONNECTED sessions only). */
  claim?: Claim;
}
