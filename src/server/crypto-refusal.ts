// Why the crypto pool refused a job before running it. Neither says anything about the proofs, so
// the session stays as it was and the app may try again: later when the pool was busy, never when
// the job itself is beyond the bound.
import { ProtocolError } from '../protocol/errors.js';

export class CryptoRefusal extends ProtocolError {
  /** Seconds after which a retry has a fair chance (the Retry-After header); unset: do not retry. */
  readonly retryAfterSeconds?: number;

  private constructor(type: 'TOO_MANY_REQUESTS' | 'MALFORMED_INPUT', message: string, status: number, retryAfterSeconds?: number) {
    super(type, message, { status });
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }

  /** 503: every worker is busy and the queue is full. */
  static busy(retryAfterSeconds: number): CryptoRefusal {
    return new CryptoRefusal('TOO_MANY_REQUESTS', 'the crypto queue is full', 503, Math.max(1, Math.ceil(retryAfterSeconds)));
  }

  /** 400: the job alone would cost more than any one request may. */
  static tooCostly(cost: number, bound: number): CryptoRefusal {
    return new CryptoRefusal(
      'MALFORMED_INPUT',
      `the proofs and credentials of this message need about ${Math.ceil(cost)} units of crypto work, more than the bound of ${bound}`,
      400,
    );
  }
}
