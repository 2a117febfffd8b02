// Everything a request handler needs, built once by startServer (or by tests).
import type { FastifyBaseLogger } from 'fastify';
import type { SchemeRegistry } from '../scheme/types.js';
import type { Session } from '../session/session.js';
import type { Lifetimes } from '../session/lifetimes.js';
import type { SessionStore } from '../store/store.js';
import type { Clock } from './clock.js';
import type { ServerOptions } from './options.js';
import type { ProofChecker } from './proof-port.js';
import type { ResultSigner } from './result-jwt.js';
import type { DeadlineWatcher } from './deadlines.js';
import type { SdJwtIssuers } from '../sdjwt/issuer-keys.js';
import type { ServerMetrics } from './metrics.js';
import type { ProcessLiveness, ScriptRunner } from '../store/process-liveness.js';
import type { RevocationService } from '../revocation/service.js';

export interface ServerContext {
  options: ServerOptions;
  schemes: SchemeRegistry;
  store: SessionStore<Session>;
  clock: Clock;
  lifetimes: Lifetimes;
  checker: ProofChecker;
  /** Present when a JWT private key is configured. */
  signer?: ResultSigner;
  /** The app's base URL ending in `/irma/`; a function because the port may be known only after listening. */
  irmaUrl: () => string;
  log: FastifyBaseLogger;
  deadlines: DeadlineWatcher;
  /** SD-JWT VC issuers by `<scheme>.<issuer>`; absent when SD-JWT VC issuance is not configured. */
  sdjwtIssuers?: SdJwtIssuers;
  /** Absent only in contexts built by hand (tests): then nothing is measured. */
  metrics?: ServerMetrics;
  /** This process's id in claims, and whether other processes holding claims are alive. */
  liveness: ProcessLiveness;
  /**
   * Scripts on the session store's Redis (rate-limit counters shared by every process); absent with
   * the memory store. The store itself may be wrapped (metrics, size bounds), so it is kept apart.
   */
  scripts?: ScriptRunner;
  /** Revocation roles and state; absent only in tests that build a context by hand. */
  revocation?: RevocationService;
}
