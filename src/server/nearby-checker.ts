// The checker the server runs with crypto workers: ordinary disclosure and signature proofs are
// checked right here on the server thread while it has time to spare; issuance, big jobs, and
// every job once the thread is busy go to the worker pool.
//
// Why: handing a job to a worker costs the server thread a structured-clone message and a wake-up
// of another thread each way, and the worker parses the message again. Measured on 2 cores with 4
// clients that is ~0.6 ms of CPU per disclosure session, as much as checking a one-credential
// 1024-bit proof (~0.8 ms). The workers stay what keeps the event loop responsive under load:
// from BUSY_UTILIZATION of a core used by this thread, and for any job estimated beyond
// NEARBY_MAX_COST (a few ms), nothing runs here. A job checked here cannot be cut short as a worker's can, which is
// why only jobs bounded in cost by their size (crypto-cost.ts) qualify.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { jobCost } from './crypto-cost.js';
import type { DisclosureOutcome, IssuanceOutcome, ProofChecker, SignatureOutcome, VerificationInput } from './proof-port.js';
import type { CheckKind } from './proof-worker-wire.js';
import type { SessionType } from '../protocol/requests.js';

/** Jobs estimated at most this many units (≈ ms of one core) may run on the server thread. */
export const NEARBY_MAX_COST = 3;
/** From this share of a core used in the last interval, the server thread counts as busy. */
export const BUSY_UTILIZATION = 0.85;
/** How often the thread's use is sampled: long enough that a moment of compiling or collecting garbage does not count as load, short enough to follow a real rise. */
const SAMPLE_MS = 500;

/** What the pool offers beyond checking: its queue for metrics, its workers for warm-up. */
export interface Pool extends ProofChecker {
  queueDepth(): number;
}

/** Where Linux tells a thread's own CPU time (ns, first field); elsewhere event-loop utilisation stands in. */
const SCHEDSTAT = '/proc/thread-self/schedstat';

/**
 * The share of one core the server thread used lately (0 idle, 1 a core's worth). Its own CPU
 * time, not event-loop utilisation: on a machine whose cores are shared, a thread waiting for a
 * core counts as running in the latter, and then the server would send work to workers that wait
 * for the same cores, paying the hand-over for nothing.
 */
export class ThreadUse {
  private readonly ownTime: () => number;
  private lastOwn: number;
  private at = performance.now();
  private value = 0;

  constructor() {
    this.ownTime = ThreadUse.schedstatWorks() ? ThreadUse.schedstatMs : ThreadUse.loopActiveMs;
    this.lastOwn = this.ownTime();
  }

  current(): number {
    const now = performance.now();
    if (now - this.at >= SAMPLE_MS) {
      const own = this.ownTime();
      this.value = (own - this.lastOwn) / (now - this.at);
      this.lastOwn = own;
      this.at = now;
    }
    return this.value;
  }

  private static schedstatWorks(): boolean {
    try {
      return ThreadUse.schedstatMs() > 0;
    } catch {
      return false;
    }
  }

  private static schedstatMs(): number {
    const text = readFileSync(SCHEDSTAT, 'latin1');
    return Number(text.slice(0, text.indexOf(' '))) / 1e6;
  }

  private static loopActiveMs(): number {
    return performance.eventLoopUtilization().active;
  }
}

export class NearbyChecker implements ProofChecker {
  constructor(
    /** The checker over this thread's scheme registry. */
    private readonly here: ProofChecker,
    readonly pool: Pool,
    private readonly loop: { current(): number } = new ThreadUse(),
  ) {}

  disclosure(input: VerificationInput): Promise<DisclosureOutcome> {
    return this.pick('disclosure', input).disclosure(input);
  }

  signature(input: VerificationInput): Promise<SignatureOutcome> {
    return this.pick('signature', input).signature(input);
  }

  issuance(input: VerificationInput): Promise<IssuanceOutcome> {
    return this.pool.issuance(input);
  }

  /**
   * Issuance always runs on the workers, so an issuance session starts them while the app
   * connects. Other sessions leave them be: the pool starts one when a job first goes there,
   * and a server that only starts sessions (however many) holds no worker's memory.
   */
  warm(action: SessionType): void {
    if (action === 'issuing') this.pool.warm?.(action);
  }

  queueDepth(): number {
    return this.pool.queueDepth();
  }

  private pick(kind: CheckKind, input: VerificationInput): ProofChecker {
    return this.loop.current() < BUSY_UTILIZATION && jobCost(kind, input) <= NEARBY_MAX_COST ? this.here : this.pool;
  }
}
