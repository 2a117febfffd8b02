// The one error type the headless client throws. `type` names what went wrong on our side
// (the names follow irmaclient's session error types); a server's RemoteError travels along in
// `remote` so callers can branch on the protocol's error type.

export type ClientErrorType =
  | 'transport' // connection failed, or an HTTP answer that is not the protocol's shape
  | 'serverResponse' // the server answered with a RemoteError (see `remote`)
  | 'rejected' // the server judged our proofs and the proofStatus is not VALID
  | 'pairingRejected' // pairing ended in another status than CONNECTED
  | 'requiredAttributeMissing' // the wallet cannot satisfy the disclosure request
  | 'invalidRequest' // a malformed or unsupported message from the server
  | 'unknownIdentifier' // the request names a scheme, type, attribute or key we do not know
  | 'crypto' // a proof or signature from the server does not verify, or proving failed
  | 'timestamp' // the timestamp server failed or answered badly
  | 'revocation' // a witness could not be brought up to date
  | 'storage'; // the wallet folder cannot be read or written

/** The RemoteError JSON of the protocol: `{"status":400,"error":"SESSION_UNKNOWN",...}`. */
export interface RemoteError {
  status: number;
  error: string;
  description?: string;
  message?: string;
  stacktrace?: string;
}

export class ClientError extends Error {
  readonly type: ClientErrorType;
  readonly remote?: RemoteError;
  /** HTTP status of the answer that caused the error, if there was one. */
  readonly httpStatus?: number;
  /** For `rejected`: the proofStatus the server gave. */
  readonly proofStatus?: string;

  constructor(
    type: ClientErrorType,
    message: string,
    opts: { remote?: RemoteError; httpStatus?: number; proofStatus?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ClientError';
    this.type = type;
    this.remote = opts.remote;
    this.httpStatus = opts.httpStatus;
    this.proofStatus = opts.proofStatus;
  }

  /** The protocol error type of a server error (e.g. "UNEXPECTED_REQUEST"), if any. */
  get remoteType(): string | undefined {
    return this.remote?.error;
  }
}
