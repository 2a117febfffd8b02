// The one error type of the SD-JWT VC layer. The server turns it into ISSUANCE_FAILED (or
// MALFORMED_INPUT for a holder key), the holder into a `crypto` session error, startup into an
// options error; its message always says what was wrong, never a key or a salt.

export class SdJwtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdJwtError';
  }
}
