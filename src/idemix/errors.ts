// The one error type the Idemix layer throws. The server maps `code` onto the protocol's
// error table, so hostile input never escapes as an untyped exception.

export type IdemixErrorCode =
  | 'MALFORMED' // input that cannot be parsed or has the wrong shape/range
  | 'UNKNOWN_PUBLIC_KEY' // metadata names a credential type or key counter we do not know
  | 'INVALID_PROOF' // a proof that does not verify
  | 'INVALID_KEY' // a key file that is inconsistent or has an unsupported size
  | 'ISSUANCE_FAILED'; // the issuer cannot sign (e.g. missing private key)

export class IdemixError extends Error {
  readonly code: IdemixErrorCode;
  constructor(code: IdemixErrorCode, message: string) {
    super(message);
    this.name = 'IdemixError';
    this.code = code;
  }
}
