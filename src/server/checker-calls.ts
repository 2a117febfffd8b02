// Counts a checker's calls in flight, so that a checker replaced after a scheme update is closed
// only once the proofs it is verifying are done: a session in flight never loses its worker.
import type { ProofChecker } from './proof-port.js';

export interface CountedChecker {
  checker: ProofChecker;
  /** Resolves once no call is running. */
  idle(): Promise<void>;
}

export function countCalls(inner: ProofChecker): CountedChecker {
  let running = 0;
  let waiters: (() => void)[] = [];
  const track = async <T>(call: Promise<T>): Promise<T> => {
    running++;
    try {
      return await call;
    } finally {
      if (--running === 0) for (const w of waiters.splice(0)) w();
    }
  };
  return {
    checker: {
      disclosure: (input) => track(inner.disclosure(input)),
      signature: (input) => track(inner.signature(input)),
      issuance: (input) => track(inner.issuance(input)),
    },
    idle: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
