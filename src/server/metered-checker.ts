// The proof checker, measured: how long each verification takes (waiting for a worker included)
// and how many are queued or running. The worker pool's own queue depth is read at scrape time.
import type { ServerMetrics } from './metrics.js';
import type { DisclosureOutcome, ProofChecker, VerificationInput } from './proof-port.js';

export function meteredChecker(checker: ProofChecker, metrics: ServerMetrics): ProofChecker {
  const measure = async <T extends DisclosureOutcome>(kind: string, check: () => Promise<T>): Promise<T> => {
    const end = metrics.verificationDuration.startTimer({ kind });
    metrics.cryptoInFlight.inc();
    let proofStatus = 'error';
    try {
      const outcome = await check();
      proofStatus = outcome.proofStatus;
      return outcome;
    } finally {
      metrics.cryptoInFlight.dec();
      end({ proof_status: proofStatus });
    }
  };
  const queue = checker as Partial<{ queueDepth: number }>;
  if (typeof queue.queueDepth === 'number') metrics.watch({ cryptoQueueDepth: () => queue.queueDepth });
  return {
    disclosure: (input: VerificationInput) => measure('disclosure', () => checker.disclosure(input)),
    signature: (input: VerificationInput) => measure('signature', () => checker.signature(input)),
    issuance: (input: VerificationInput) => measure('issuance', () => checker.issuance(input)),
  };
}
