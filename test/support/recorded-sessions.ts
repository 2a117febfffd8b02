// The sessions recorded between the reference server and client (../shared/reference/vectors),
// and the checker input each gives, as the server builds it from its GET answer.
import { readFileSync } from 'node:fs';
import type { VerificationInput } from '../../src/server/proof-port.js';
import { REFERENCE_VECTORS } from './reference.js';

export interface Recorded {
  label: string;
  requestorRequest: unknown;
  client: Array<{ method: string; path: string; status: number; requestHeaders: Record<string, string>; requestBody?: unknown; responseBody: unknown }>;
  requestorResult: Record<string, unknown>;
}

export const vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8')) as { recordedAtUnix: number; sessions: Recorded[] };
/** When the sessions were recorded (ms): the clock their proofs are valid at. */
export const recordedAt = vectors.recordedAtUnix * 1000;

export function session(label: string): Recorded {
  return vectors.sessions.find((s) => s.label === label)!;
}

/** The checker input of a recorded session; `message` replaces the app's message when given. */
export function recordedInput(label: string, message?: unknown): VerificationInput {
  const rec = session(label);
  const request = (rec.client[0].responseBody as { request: VerificationInput['request'] }).request;
  return { request, message: (message ?? rec.client[1].requestBody) as VerificationInput['message'], now: recordedAt };
}
