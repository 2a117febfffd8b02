// What travels between the server thread and a crypto worker (src/server/proof-workers.ts and
// proof-worker.ts). Everything here survives structured clone; error classes do not (they arrive
// as plain Errors), so typed errors cross as data and are rebuilt on the other side, letting the
// HTTP layer map them exactly as it maps errors of the main-thread checker.
import { IdemixError, type IdemixErrorCode } from '../idemix/errors.js';
import { ERROR_TABLE, ProtocolError, type ErrorType } from '../protocol/errors.js';
import type { LoadSchemesOptions } from '../scheme/loader.js';
import type { VerificationInput } from './proof-port.js';

export type CheckKind = 'disclosure' | 'signature' | 'issuance';

/** workerData of every crypto worker: where to load the schemes from, never the objects. */
export interface WorkerSetup {
  schemes: LoadSchemesOptions;
  /** Key pairs the server thread already proved (their primality tests take ~1 s per worker). */
  provenKeyPairs?: string[];
}

export interface CheckRequest {
  id: number;
  kind: CheckKind;
  input: VerificationInput;
}

export type WireError =
  | { kind: 'protocol'; type: ErrorType; message: string; description: string; status: number }
  | { kind: 'idemix'; code: IdemixErrorCode; message: string }
  // Anything else: only its name crosses, so internals never reach a response or a log.
  | { kind: 'other'; name: string };

export type WorkerMessage =
  | { ready: true }
  // The checker's warnings, logged by the server thread with its own logger and settings.
  | { log: 'warn'; details: Record<string, unknown>; msg: string }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: WireError };

export function errorToWire(err: unknown): WireError {
  if (err instanceof ProtocolError) {
    return { kind: 'protocol', type: err.type, message: err.message, description: err.description, status: err.status };
  }
  if (err instanceof IdemixError) return { kind: 'idemix', code: err.code, message: err.message };
  return { kind: 'other', name: err instanceof Error ? err.name : typeof err };
}

export function errorFromWire(w: WireError): Error {
  switch (w.kind) {
    case 'protocol':
      // A type this build does not know cannot be mapped by the HTTP layer: treat it as internal.
      if (!Object.hasOwn(ERROR_TABLE, w.type)) return new ProtocolError('INTERNAL_ERROR');
      return new ProtocolError(w.type, w.message, { description: w.description, status: w.status });
    case 'idemix':
      return new IdemixError(w.code, w.message);
    case 'other': {
      const err = new Error('crypto worker failed');
      err.name = w.name;
      return err;
    }
  }
}
