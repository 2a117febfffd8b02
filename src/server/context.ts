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
  /** Revocation roles and state; absent only in tests that build a context by hand. */
  revocation?: RevocationService;
}
