// The proof checker, measured: how long each verification takes (waiting for a worker included)
// and how many are queued or running. The worker pool's own queue depth is read at scrape time.
import type { SessionType } from '../protocol/requests.js';
import type { ServerMetrics } from './metrics.js';
import type { DisclosureOutcome, IssuanceOutcome, ProofChecker, SignatureOutcome, VerificationInput } from './proof-port.js';

export class MeteredChecker implements ProofChecker {
  constructor(
    /** The checker doing the work (a worker pool, or the checker on this thread). */
    readonly inner: ProofChecker,
    private readonly metrics: ServerMetrics,
  ) {
    const pool = inner as Partial<{ queueDepth(): number }>;
    if (typeof pool.queueDepth === 'function') metrics.watch({ cryptoQueueDepth: () => pool.queueDepth!() });
  }

  warm(action: SessionType): void {
    this.inner.warm?.(action);
  }

  disclosure(input: VerificationInput): Promise<DisclosureOutcome> {
    return this.#measure('disclosure', () => this.inner.disclosure(input));
  }

  signature(input: VerificationInput): Promise<SignatureOutcome> {
    return this.#measure('signature', () => this.inner.signature(input));
  }

  issuance(input: VerificationInput): Promise<IssuanceOutcome> {
    return this.#measure('issuance', () => this.inner.issuance(input));
  }

  async #measure<T extends DisclosureOutcome>(kind: string, check: () => Promise<T>): Promise<T> {
    const end = this.metrics.verificationDuration.startTimer({ kind });
    this.metrics.cryptoInFlight.inc();
    let proofStatus = 'error';
    try {
      const outcome = await check();
      proofStatus = outcome.proofStatus;
      return outcome;
    } finally {
      this.metrics.cryptoInFlight.dec();
      end({ proof_status: proofStatus });
    }
  }
}
