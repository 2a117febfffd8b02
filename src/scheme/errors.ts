// The one error type the scheme layer throws. `path` names the file or folder at fault, so an
// operator can find what to fix; `code` lets callers map the failure (e.g. to INVALID_REQUEST).

export type SchemeErrorCode =
  | 'IO' // a file or folder that cannot be read or written
  | 'MALFORMED' // XML that does not parse, a missing or duplicate element, an inconsistent identifier
  | 'INVALID_SIGNATURE' // index.sig does not verify, or a file is unindexed or does not match its hash
  | 'INVALID_KEY' // a key that does not parse, does not match its counterpart or is too small for a type
  | 'UNKNOWN_IDENTIFIER' // an issuer or credential type that no loaded scheme defines
  | 'MISSING_PRIVATE_KEY' // issuance needs a private key that is not configured
  | 'MISSING_PUBLIC_KEY' // a private key without the public key of the same counter
  | 'EXPIRED_KEY'; // issuance with a public key past its ExpiryDate

export class SchemeError extends Error {
  readonly code: SchemeErrorCode;
  readonly path: string;
  constructor(code: SchemeErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(`${message} (${path})`, options);
    this.name = 'SchemeError';
    this.code = code;
    this.path = path;
  }
}
