// The one door through which the server reaches the cryptography of POST /proofs and
// /commitments. The server parses the envelope (a malformed body leaves the session alone),
// then calls the checker OUTSIDE any store update, then commits the outcome with a
// compare-and-set. Anything a checker throws (ProtocolError, IdemixError) cancels the session
// with that error, as the reference does for failures after parsing.
import type { SessionType } from '../protocol/requests.js';
import type { JsonObject, JsonValue, ProofStatus } from '../session/session.js';

export interface VerificationInput {
  /** The session request with its server-set fields (nonce, context, keyCounter, ...). */
  request: JsonObject;
  /** Condiscon of the previous session of a chain, appended to the request's `disclose`. */
  implicitDisclosure?: JsonValue[];
  /** The app's message, already parsed from JSON. */
  message: JsonValue;
  /**
   * The same message as the app sent it. A checker in another thread parses this again rather
   * than receive a structured clone of the parsed tree, which cost the server thread more.
   */
  messageText?: string;
  /** Milliseconds since the epoch, for expiry checks. */
  now: number;
  /**
   * Issuance: per credential of the request, the non-revocation witness made for it (JSON as in
   * IssueSignatureMessage.nonrev), or null for a credential type without revocation.
   */
  witnesses?: ({ u: string; e: string; sacc: { data: string; pk: number } } | null)[];
}

export interface DisclosureOutcome {
  proofStatus: ProofStatus;
  /** DisclosedAttribute lists as the SessionResult shows them; absent for an INVALID proof list. */
  disclosed?: JsonValue[];
}

export interface SignatureOutcome extends DisclosureOutcome {
  /** The SignedMessage, stored in the result. */
  signature: JsonValue;
}

export interface IssuanceOutcome extends DisclosureOutcome {
  /** IssueSignatureMessage per credential, in request order. */
  sigs: JsonValue[];
}

export interface ProofChecker {
  disclosure(input: VerificationInput): Promise<DisclosureOutcome>;
  signature(input: VerificationInput): Promise<SignatureOutcome>;
  issuance(input: VerificationInput): Promise<IssuanceOutcome>;
  /** A session of this type started: get ready for its proofs (a pool starts its workers when none run). */
  warm?(action: SessionType): void;
}
