// Counts a checker's calls in flight, so that a checker replaced after a scheme update is closed
// only once the proofs it is verifying are done: a session in flight never loses its worker.
import type { ProofChecker } from './proof-port.js';

export interface CountedChecker<C extends ProofChecker> {
  /** The same checker (a proxy: its own type, fields and methods stay as they are), counting its checks. */
  checker: C;
  /** Resolves once no call is running. */
  idle(): Promise<void>;
}

const CHECKS = new Set<PropertyKey>(['disclosure', 'signature', 'issuance']);

export function countCalls<C extends ProofChecker>(inner: C): CountedChecker<C> {
  let running = 0;
  const waiters: (() => void)[] = [];
  const track = async <T>(call: () => Promise<T>): Promise<T> => {
    running++;
    try {
      return await call();
    } finally {
      if (--running === 0) for (const w of waiters.splice(0)) w();
    }
  };
  const checker = new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (!CHECKS.has(prop) || typeof value !== 'function') return value;
      return (input: unknown) => track(() => (value as (i: unknown) => Promise<unknown>).call(target, input));
    },
  });
  return {
    checker,
    idle: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
