// The server's Prometheus metrics (prom-client), one registry per server so several servers in
// one process (tests, embedding) keep their own counts. What feeds them lives beside: the metered
// store (sessions started/finished, store latency and errors), the metered checker (verification
// time), the HTTP hooks (request durations, rejected requests); gauges read their sources when
// scraped (crypto queue, SSE listeners).
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { LeanHistogram } from './lean-histogram.js';
import type { Session } from '../session/session.js';

/** Values read at scrape time; a source that is absent (no worker pool) leaves its gauge out. */
export interface GaugeSources {
  /** Checks waiting for a crypto worker. */
  cryptoQueueDepth?: () => number | undefined;
  /** Open server-sent event streams. */
  sseListeners?: () => number;
}

let processMetrics: Registry | undefined;

/** Process metrics are per process, not per server: one registry, started on the first scrape. */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #sources: GaugeSources = {};

  readonly sessionsStarted = new Counter({
    name: 'irma_sessions_started_total',
    help: 'Sessions started, by type (disclosing, signing, issuing)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly sessionsFinished = new Counter({
    name: 'irma_sessions_finished_total',
    help: 'Sessions that reached a final status (DONE, CANCELLED, TIMEOUT) in this process, by type and status',
    labelNames: ['type', 'status'] as const,
    registers: [this.registry],
  });
  readonly sessionDuration = new LeanHistogram(
    'irma_session_duration_seconds',
    'Time from a session\'s start to its final status, by type and status',
    ['type', 'status'] as const,
    [1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800],
    this.registry,
  );
  readonly verificationDuration = new LeanHistogram(
    'irma_proof_verification_duration_seconds',
    'Time to verify the proofs of a session (queueing for a crypto worker included), by kind and proof status',
    ['kind', 'proof_status'] as const,
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );
  readonly cryptoInFlight = new Gauge({
    name: 'irma_crypto_jobs_in_flight',
    help: 'Proof verifications and issuances queued or running',
    registers: [this.registry],
  });
  readonly storeDuration = new LeanHistogram(
    'irma_store_operation_duration_seconds',
    'Session store operation latency, by operation',
    ['operation'] as const,
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  readonly storeErrors = new Counter({
    name: 'irma_store_errors_total',
    help: 'Session store operations that failed (unknown sessions are not counted), by operation and error code',
    labelNames: ['operation', 'code'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new LeanHistogram(
    'irma_http_request_duration_seconds',
    'HTTP request duration, by method, route template and status code',
    ['method', 'route', 'status'] as const,
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );
  readonly rejected = new Counter({
    name: 'irma_http_requests_rejected_total',
    help: 'Requests answered with an error status, by status code and protocol error type',
    labelNames: ['status', 'error'] as const,
    registers: [this.registry],
  });

  constructor() {
    const sources = this.#sources;
    new Gauge({
      name: 'irma_crypto_queue_depth',
      help: 'Proof checks waiting for a free crypto worker',
      registers: [this.registry],
      collect() {
        const depth = sources.cryptoQueueDepth?.();
        if (depth !== undefined) this.set(depth);
      },
    });
    new Gauge({
      name: 'irma_sse_listeners',
      help: 'Open server-sent event streams (status and frontend)',
      registers: [this.registry],
      collect() {
        this.set(sources.sseListeners?.() ?? 0);
      },
    });
  }

  watch(sources: GaugeSources): void {
    Object.assign(this.#sources, sources);
  }

  sessionStarted(session: Session): void {
    this.sessionsStarted.inc({ type: session.action });
  }

  sessionFinished(session: Session): void {
    const labels = { type: session.action, status: session.status };
    this.sessionsFinished.inc(labels);
    this.sessionDuration.observe(labels, Math.max(0, session.lastActive - session.createdAt) / 1000);
  }

  /** This server's metrics, after the process's own (resident memory, CPU, event loop lag, heap, GC). */
  async text(): Promise<string> {
    return (await processRegistry().metrics()) + (await this.registry.metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
