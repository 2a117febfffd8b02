// The ProofChecker on a pool of worker threads, so proof verification and issuance signing use
// every core and never block the event loop that serves HTTP. Each worker loads the schemes from
// disk itself and runs the same checker the server would run on its own thread (proof-worker.ts).
//
// Isolation: every job's cost is estimated from its size first (crypto-cost.ts). Jobs beyond the
// bound are refused; big ones run in a lane of their own workers, so ordinary sessions never queue
// behind them; each lane's queue is bounded (503 with Retry-After when full). A job that overruns
// its deadline gets its worker replaced, and the other jobs that worker held run again elsewhere.
// Workers start when first needed, so an idle server holds no worker's memory.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import { provenKeyPairs } from '../scheme/key-files.js';
import type { LoadSchemesOptions } from '../scheme/loader.js';
import { jobCost } from './crypto-cost.js';
import { CryptoRefusal } from './crypto-refusal.js';
import type { DisclosureOutcome, IssuanceOutcome, ProofChecker, SignatureOutcome, VerificationInput } from './proof-port.js';
import {
  errorFromWire,
  type CheckKind,
  type CheckRequest,
  type WorkerMessage,
  type WorkerSetup,
} from './proof-worker-wire.js';

export interface ProofWorkerPoolOptions {
  /** Where every worker loads the schemes from (paths, not a registry: objects do not cross threads). */
  schemes: LoadSchemesOptions;
  /** Worker threads for ordinary jobs, at least 1. */
  size: number;
  /** Workers started (and awaited) by `start`; the others start when work arrives. Default: all. */
  startWorkers?: number;
  /** Ordinary jobs that may wait for a free worker; beyond that a job is refused with 503. */
  maxQueue?: number;
  /** A job running longer than this restarts its worker; the job fails, the worker's others run again. */
  callTimeoutMs?: number;
  /** Jobs estimated above this many units (≈ ms of one core) are refused with 400. */
  maxJobCost?: number;
  /** Jobs from this many units on run in the lane for big jobs. */
  bigJobCost?: number;
  /** Worker threads of the lane for big jobs. */
  bigWorkers?: number;
  /** Big jobs that may wait for a worker of their lane. */
  maxBigQueue?: number;
  /** A worker without a job for this long stops, giving its memory back; the next session starts it again. */
  idleStopMs?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_QUEUE = 1024;
/**
 * Honest proofs take milliseconds and jobs are bounded in cost before they reach a worker, so a
 * call this slow means a stuck worker: replacing it is the only way to get the core back.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** ~5 s of one core: hundreds of credentials in one issuance, far beyond what an app sends. */
export const DEFAULT_MAX_JOB_COST = 5_000;
/** ~100 ms: a few dozen ordinary proofs. */
export const DEFAULT_BIG_JOB_COST = 100;
export const DEFAULT_BIG_WORKERS = 1;
export const DEFAULT_MAX_BIG_QUEUE = 16;
/** Each worker holds ~17 MB; a server that had one session an hour ago need not hold them. */
export const DEFAULT_IDLE_STOP_MS = 10 * 60_000;
/**
 * Ordinary jobs handed to one worker before it answers. Two keep a worker busy while the next
 * message is in transit, without putting many jobs at risk when a worker dies.
 */
const PER_WORKER = 2;
/** Pause before replacing a worker that died before it was ready, so a broken setup cannot spin. */
const RESPAWN_DELAY_MS = 1000;
/** Units of work one worker gets through per second (the unit is about a millisecond). */
const UNITS_PER_SECOND = 1000;

interface Call {
  id: number;
  kind: CheckKind;
  input: VerificationInput;
  cost: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
  deadline?: NodeJS.Timeout;
  /** Its deadline passed: it is the reason its worker is being replaced. */
  overran?: boolean;
  /** Already run again once after its worker was replaced. */
  rerun?: boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  calls: Map<number, Call>;
  /** Terminated by the pool because a call overran (not a crash). */
  replacing: boolean;
  /** Stopped by the pool because it had nothing to do: not replaced. */
  retiring?: boolean;
  idleTimer?: NodeJS.Timeout;
}

interface Lane {
  name: 'ordinary' | 'big';
  size: number;
  perWorker: number;
  maxQueue: number;
  slots: Set<Slot>;
  queue: Call[];
  /** A worker of this lane died while loading: no new one before this time. */
  blockedUntil: number;
}

/**
 * Under tsx or vitest this module is TypeScript, which a fresh worker thread cannot load on its
 * own; the .mjs bootstrap registers tsx first. Compiled, the worker is plain JavaScript.
 */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./proof-worker-bootstrap.mjs', import.meta.url)
    : new URL('./proof-worker.js', import.meta.url);
}

function workerStopped(): ProtocolError {
  return new ProtocolError('INTERNAL_ERROR', 'crypto worker stopped');
}

function overran(): ProtocolError {
  return new ProtocolError('INTERNAL_ERROR', 'crypto job exceeded its time limit');
}

export class ProofWorkerPool implements ProofChecker {
  private readonly ordinary: Lane;
  private readonly big: Lane;
  private readonly maxJobCost: number;
  private readonly bigJobCost: number;
  private nextId = 1;
  private closed = false;
  private respawnTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: ProofWorkerPoolOptions) {
    const lane = (name: Lane['name'], size: number, perWorker: number, maxQueue: number): Lane => ({
      name,
      size,
      perWorker,
      maxQueue,
      slots: new Set(),
      queue: [],
      blockedUntil: 0,
    });
    this.ordinary = lane('ordinary', opts.size, PER_WORKER, opts.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.big = lane('big', opts.bigWorkers ?? DEFAULT_BIG_WORKERS, 1, opts.maxBigQueue ?? DEFAULT_MAX_BIG_QUEUE);
    this.maxJobCost = opts.maxJobCost ?? DEFAULT_MAX_JOB_COST;
    this.bigJobCost = opts.bigJobCost ?? DEFAULT_BIG_JOB_COST;
  }

  /** Starts `startWorkers` (default: `size`) workers and resolves once they have loaded the schemes. */
  static async start(opts: ProofWorkerPoolOptions): Promise<ProofWorkerPool> {
    if (!Number.isSafeInteger(opts.size) || opts.size < 1) throw new RangeError('a worker pool needs at least one worker');
    if (opts.bigWorkers !== undefined && (!Number.isSafeInteger(opts.bigWorkers) || opts.bigWorkers < 1)) {
      throw new RangeError('the lane for big jobs needs at least one worker');
    }
    const pool = new ProofWorkerPool(opts);
    const eager = Math.min(opts.startWorkers ?? opts.size, opts.size);
    try {
      await Promise.all(Array.from({ length: eager }, () => pool.spawn(pool.ordinary)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Worker threads running now, in both lanes. */
  get size(): number {
    return this.ordinary.slots.size + this.big.slots.size;
  }

  /** Jobs waiting for a worker (for metrics). */
  queueDepth(): number {
    return this.ordinary.queue.length + this.big.queue.length;
  }

  /** Workers running at least one job (for metrics). */
  busyWorkers(): number {
    let n = 0;
    for (const lane of [this.ordinary, this.big]) for (const s of lane.slots) if (s.calls.size > 0) n++;
    return n;
  }

  /** Starts the ordinary workers that do not run (yet, or after idling), so proofs need not wait for one to load. */
  warm(): void {
    if (this.ordinary.slots.size < this.ordinary.size) this.grow(this.ordinary, this.ordinary.size - this.ordinary.slots.size);
  }

  disclosure(input: VerificationInput): Promise<DisclosureOutcome> {
    return this.call('disclosure', input) as Promise<DisclosureOutcome>;
  }

  signature(input: VerificationInput): Promise<SignatureOutcome> {
    return this.call('signature', input) as Promise<SignatureOutcome>;
  }

  issuance(input: VerificationInput): Promise<IssuanceOutcome> {
    return this.call('issuance', input) as Promise<IssuanceOutcome>;
  }

  /** Stops every worker; calls still waiting or running fail with INTERNAL_ERROR. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.respawnTimer);
    const slots: Slot[] = [];
    for (const lane of [this.ordinary, this.big]) {
      for (const call of lane.queue.splice(0)) call.reject(workerStopped());
      slots.push(...lane.slots);
      lane.slots.clear();
    }
    for (const slot of slots) {
      clearTimeout(slot.idleTimer);
      for (const call of slot.calls.values()) {
        clearTimeout(call.deadline);
        call.reject(workerStopped());
      }
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private call(kind: CheckKind, input: VerificationInput): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(workerStopped());
      const cost = jobCost(kind, input);
      if (cost > this.maxJobCost) return reject(CryptoRefusal.tooCostly(cost, this.maxJobCost));
      const lane = cost >= this.bigJobCost ? this.big : this.ordinary;
      const call: Call = { id: this.nextId++, kind, input, cost, resolve, reject };
      const slot = lane.queue.length === 0 ? this.freeSlot(lane) : undefined;
      if (slot) return this.send(lane, slot, call);
      if (lane.queue.length >= lane.maxQueue) return reject(CryptoRefusal.busy(this.backlogSeconds(lane)));
      if (this.readySlots(lane) === 0 && lane.blockedUntil > Date.now()) return reject(workerStopped());
      lane.queue.push(call);
      this.pump(lane);
    });
  }

  /** How long the lane's queued work would keep its workers busy. */
  private backlogSeconds(lane: Lane): number {
    let units = 0;
    for (const c of lane.queue) units += c.cost;
    return units / UNITS_PER_SECOND / Math.max(1, lane.size);
  }

  private freeSlot(lane: Lane): Slot | undefined {
    let best: Slot | undefined;
    for (const s of lane.slots) {
      if (s.ready && !s.replacing && !s.retiring && s.calls.size < lane.perWorker && (!best || s.calls.size < best.calls.size)) best = s;
    }
    return best;
  }

  private pump(lane: Lane): void {
    for (let slot = this.freeSlot(lane); slot && lane.queue.length > 0; slot = this.freeSlot(lane)) {
      this.send(lane, slot, lane.queue.shift()!);
    }
    // Work is waiting and the lane may grow: start a worker (it takes the queue when ready).
    if (lane.queue.length > 0) this.grow(lane, this.starting(lane) === 0 ? 1 : 0);
  }

  private starting(lane: Lane): number {
    let n = 0;
    for (const s of lane.slots) if (!s.ready) n++;
    return n;
  }

  /** Starts up to `n` more workers in `lane`, within its size. */
  private grow(lane: Lane, n: number): void {
    if (this.closed || lane.blockedUntil > Date.now()) return;
    for (let i = 0; i < n && lane.slots.size < lane.size; i++) this.spawn(lane).catch(() => undefined);
  }

  private send(lane: Lane, slot: Slot, call: Call): void {
    // With the text at hand the parsed tree stays here: the worker parses the text itself.
    const input = call.input.messageText === undefined ? call.input : { ...call.input, message: null };
    const req: CheckRequest = { id: call.id, kind: call.kind, input };
    try {
      slot.worker.postMessage(req);
    } catch {
      // Only input that is not plain data gets here (it cannot be cloned); the server never sends such.
      call.reject(new ProtocolError('INTERNAL_ERROR', 'verification input cannot be sent to a crypto worker'));
      return;
    }
    slot.calls.set(call.id, call);
    clearTimeout(slot.idleTimer);
    call.deadline = setTimeout(() => {
      if (!slot.calls.has(call.id) || slot.replacing) return;
      call.overran = true;
      slot.replacing = true;
      this.opts.logger?.warn({ kind: call.kind, lane: lane.name }, 'crypto job exceeded its deadline; replacing its worker');
      // The exit handler settles the worker's calls and starts a replacement.
      void slot.worker.terminate();
    }, this.opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    call.deadline.unref();
  }

  /** Adds one worker to `lane`; resolves when it is ready, rejects when it dies first. */
  private spawn(lane: Lane): Promise<void> {
    const setup: WorkerSetup = { schemes: this.opts.schemes, provenKeyPairs: provenKeyPairs() };
    const worker = new Worker(workerUrl(), { workerData: setup });
    const slot: Slot = { worker, ready: false, calls: new Map(), replacing: false };
    lane.slots.add(slot);
    return new Promise((resolve, reject) => {
      let failure: Error | undefined;
      worker.on('message', (m: WorkerMessage) => {
        if ('log' in m) {
          this.opts.logger?.warn(m.details, m.msg);
          return;
        }
        if ('ready' in m) {
          slot.ready = true;
          resolve();
          this.pump(lane);
          if (slot.calls.size === 0) this.stopWhenIdle(lane, slot);
          return;
        }
        const call = slot.calls.get(m.id);
        if (!call) return;
        slot.calls.delete(m.id);
        clearTimeout(call.deadline);
        if (m.ok) call.resolve(m.result);
        else call.reject(errorFromWire(m.error));
        this.pump(lane);
        if (slot.calls.size === 0) this.stopWhenIdle(lane, slot);
      });
      worker.on('error', (err) => {
        failure = err;
        // The name only: a message could echo request data.
        this.opts.logger?.error({ err: { name: err.name } }, 'crypto worker crashed');
      });
      worker.on('exit', (code) => {
        if (this.closed || !lane.slots.delete(slot)) return;
        const rerun: Call[] = [];
        for (const call of slot.calls.values()) {
          clearTimeout(call.deadline);
          // After a deadline, the jobs that only shared the worker run again (once: a job that
          // was beside two overruns may itself be the problem). After a crash nobody knows which
          // job caused it, so none runs again.
          if (call.overran) call.reject(overran());
          else if (slot.replacing && !call.rerun) rerun.push({ ...call, rerun: true, deadline: undefined });
          else call.reject(workerStopped());
        }
        lane.queue.unshift(...rerun);
        if (!slot.ready) {
          reject(failure ?? new Error(`crypto worker exited with code ${code} while loading the schemes`));
          lane.blockedUntil = Date.now() + RESPAWN_DELAY_MS;
          // Nothing may wait on a lane whose workers cannot start.
          if (this.readySlots(lane) === 0) for (const call of lane.queue.splice(0)) call.reject(workerStopped());
          this.respawnLater(lane);
          return;
        }
        clearTimeout(slot.idleTimer);
        if (slot.retiring) return;
        if (!slot.replacing) this.opts.logger?.warn({ code }, 'crypto worker exited; starting a new one');
        // A replacement takes the place at once when work waits, or when the lane was started eagerly.
        this.grow(lane, 1);
        this.pump(lane);
      });
    });
  }

  private stopWhenIdle(lane: Lane, slot: Slot): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (this.closed || slot.calls.size > 0 || lane.queue.length > 0) return;
      slot.retiring = true;
      void slot.worker.terminate();
    }, this.opts.idleStopMs ?? DEFAULT_IDLE_STOP_MS);
    slot.idleTimer.unref();
  }

  private readySlots(lane: Lane): number {
    let n = 0;
    for (const s of lane.slots) if (s.ready) n++;
    return n;
  }

  private respawnLater(lane: Lane): void {
    if (this.respawnTimer) return;
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = undefined;
      this.grow(lane, lane.size - lane.slots.size);
    }, RESPAWN_DELAY_MS);
    this.respawnTimer.unref();
  }
}
