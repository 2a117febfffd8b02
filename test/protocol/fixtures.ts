// Shared test data for the protocol layer: the recorded reference sessions, the reference
// schemes, and the decoding of recorded proofs into what disclosure-check consumes.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { decodeB64 } from '../../src/idemix/bigint.js';
import { decodeAttribute, randomBlindDisplay } from '../../src/idemix/attributes.js';
import { parseMetadata } from '../../src/idemix/metadata.js';
import type { VerifiedProof } from '../../src/protocol/disclosure-check.js';
import { ProtocolError, type ErrorType } from '../../src/protocol/errors.js';
import { loadSchemes } from '../../src/scheme/loader.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { REFERENCE_SCHEMES, REFERENCE_VECTORS } from '../support/reference.js';

export interface RecordedClientCall {
  method: string;
  path: string;
  status: number;
  requestHeaders: Record<string, string>;
  requestBody?: Record<string, unknown>;
  responseBody: Record<string, unknown>;
}

export interface RecordedSession {
  label: string;
  requestorRequest: Record<string, unknown>;
  sessionPackage: Record<string, unknown>;
  client: RecordedClientCall[];
  requestorResult: Record<string, unknown>;
}

interface Vectors {
  recordedAt: string;
  recordedAtUnix: number;
  sessions: RecordedSession[];
}

export const vectors: Vectors = JSON.parse(readFileSync(REFERENCE_VECTORS, 'utf8'));
export const RECORDED_AT = vectors.recordedAtUnix;

export function recorded(label: string): RecordedSession {
  const s = vectors.sessions.find((x) => x.label === label);
  if (!s) throw new Error(`no recorded session ${label}`);
  return s;
}

export function connectCall(s: RecordedSession): RecordedClientCall {
  return s.client.find((c) => c.method === 'GET')!;
}

export function postCall(s: RecordedSession): RecordedClientCall {
  return s.client.find((c) => c.method === 'POST')!;
}

let registry: Promise<SchemeRegistry> | undefined;
/** The reference irma_configuration (irma-demo, test, test2), loaded once per test file. */
export function referenceSchemes(): Promise<SchemeRegistry> {
  registry ??= loadSchemes({ schemesPath: REFERENCE_SCHEMES });
  return registry;
}

/** The registry with some lookups replaced (missing keys, expired keys, …). */
export function withOverrides(base: SchemeRegistry, overrides: Partial<SchemeRegistry>): SchemeRegistry {
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof SchemeRegistry];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** What a verifier learns from recorded ProofDs: metadata and decoded disclosed attributes. */
export function verifiedProofsOf(proofs: unknown[], schemes: SchemeRegistry): VerifiedProof[] {
  return proofs.map((p) => {
    const disclosed = (p as { a_disclosed: Record<string, string> }).a_disclosed;
    const meta = parseMetadata(decodeB64(disclosed['1']));
    const type = schemes.credentialTypeByHash(meta.credentialTypeHashHex);
    if (!type) throw new Error(`unknown credential type hash ${meta.credentialTypeHashHex}`);
    const attributes = new Map<number, string | null>();
    for (const [k, v] of Object.entries(disclosed)) {
      const index = Number(k);
      if (index < 2) continue;
      const m = decodeB64(v);
      attributes.set(index, type.attributes[index - 2].randomBlind ? randomBlindDisplay(m) : decodeAttribute(m));
    }
    return { credentialTypeId: type.id, issuedAt: meta.signingDate, expiry: meta.expiry, attributes };
  });
}

/** A decoded proof for hand-made cases. */
export function proof(
  credentialTypeId: string,
  attributes: Record<number, string | null>,
  extra: Partial<VerifiedProof> = {},
): VerifiedProof {
  return {
    credentialTypeId,
    issuedAt: 1795046400,
    expiry: 1795046400 + 26 * 604800,
    attributes: new Map(Object.entries(attributes).map(([k, v]) => [Number(k), v])),
    ...extra,
  };
}

/** Runs fn and checks it threw a ProtocolError of this type (and message, when given). */
export function expectProtocolError(fn: () => unknown, type: ErrorType, message?: string | RegExp): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  expect(err.type).toBe(type);
  if (typeof message === 'string') expect(err.message).toBe(message);
  else if (message) expect(err.message).toMatch(message);
  return err;
}
