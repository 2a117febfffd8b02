// Failures of the revocation layer, by what a caller must do about them.
export type RevocationErrorCode =
  /** Bytes that do not decode to the expected shape. */
  | 'MALFORMED'
  /** An ECDSA signature or hash chain that does not check out. */
  | 'SIGNATURE'
  /** The holder's credential has been revoked. */
  | 'REVOKED'
  /** The update starts after the witness: older events are needed first. */
  | 'UPDATE_TOO_NEW'
  /** No revocation state (accumulator, events, record) where one was needed. */
  | 'NOT_FOUND'
  /** A signed message that does not verify or decode, from a peer (403 UNAUTHORIZED). */
  | 'UNAUTHORIZED'
  /** A request this server does not serve or that is malformed (400 INVALID_REQUEST). */
  | 'INVALID_REQUEST'
  /** No unrevoked issuance record for the key (404 UNKNOWN_REVOCATION_KEY). */
  | 'UNKNOWN_REVOCATION_KEY'
  /** Anything else the reference reports as REVOCATION. */
  | 'REVOCATION';

export class RevocationError extends Error {
  constructor(
    readonly code: RevocationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RevocationError';
  }
}
