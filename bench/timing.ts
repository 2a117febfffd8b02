// The machine is shared with other processes, so a figure is the best of several short rounds:
// the fastest round is the closest to the unloaded cost.

/** Milliseconds per call of `f` in the fastest of `rounds` rounds of about `roundMs` each. */
export function bestMsPerOp(f: () => unknown, rounds: number, roundMs: number): number {
  f();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < roundMs || n < 2) {
      f();
      n++;
      now = performance.now();
    }
    best = Math.min(best, (now - start) / n);
  }
  return best;
}
