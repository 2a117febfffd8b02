// An update: a signed accumulator plus the events leading up to it, in the CBOR form the
// /irma/revocation endpoints speak and the JSON form session requests and proofs carry.
import { decodeB64, encodeB64 } from '../idemix/bigint.js';
import type { PublicKey } from '../idemix/keys.js';
import { asMap, CborShapeError, decodeCbor, encodeCbor, getBytes, getUint } from './cbor.js';
import { openSignedAccumulator, type Accumulator, type SignedAccumulator } from './accumulator.js';
import { RevocationError } from './errors.js';
import {
  compressEvents,
  eBytes,
  eFromBytes,
  hashesEqual,
  isSha256Multihash,
  uncompressEvents,
  verifyEventChain,
  type CompressedEvents,
  type RevocationEvent,
} from './events.js';

export interface Update {
  sacc: SignedAccumulator;
  /** Ascending, consecutive; may be empty (a re-signed accumulator only). */
  events: RevocationEvent[];
}

/** Most events one update may carry from outside (the reference's UpdateMaxCount is 512). */
export const MAX_UPDATE_EVENTS = 1 << 16;

/**
 * Checks the signature and, when events are present, that they chain up to the signed
 * EventHash; returns the accumulator. `keyOf` maps a key counter to its public key.
 */
export function verifyUpdate(update: Update, keyOf: (counter: number) => PublicKey | undefined): Accumulator {
  const pk = keyOf(update.sacc.pk);
  if (pk === undefined) throw new RevocationError('REVOCATION', `unknown public key ${update.sacc.pk}`);
  const acc = openSignedAccumulator(update.sacc, pk);
  if (update.events.length > 0) {
    const last = verifyEventChain(update.events);
    if (update.events[update.events.length - 1].index !== acc.index || !hashesEqual(last, acc.eventHash)) {
      throw new RevocationError('SIGNATURE', 'events do not lead to the signed accumulator');
    }
  }
  return acc;
}

// ---- CBOR ----

export function signedAccumulatorCbor(sacc: SignedAccumulator): Map<string, unknown> {
  return new Map<string, unknown>([['data', sacc.data], ['pk', sacc.pk]]);
}

export function eventListCbor(events: readonly RevocationEvent[]): Map<string, unknown> {
  const c = compressEvents(events);
  return new Map<string, unknown>([['i', c.i], ['hash', c.hash], ['e', c.e.map(eBytes)]]);
}

export function updateCbor(u: Update): Map<string, unknown> {
  const m = new Map<string, unknown>([['sacc', signedAccumulatorCbor(u.sacc)]]);
  if (u.events.length > 0) m.set('e', eventListCbor(u.events));
  return m;
}

export function encodeUpdate(u: Update): Uint8Array {
  return encodeCbor(updateCbor(u));
}

function shape<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RevocationError) throw e;
    throw new RevocationError('MALFORMED', `undecodable ${what}: ${(e as Error).message}`);
  }
}

export function signedAccumulatorFromCbor(v: unknown): SignedAccumulator {
  const m = asMap(v, 'sacc');
  return { data: getBytes(m, 'data', 'sacc'), pk: getUint(m, 'pk', 'sacc', true) };
}

export function eventListFromCbor(v: unknown): RevocationEvent[] {
  const m = asMap(v, 'events');
  const list = m.get('e');
  if (!Array.isArray(list)) throw new CborShapeError('events.e: expected an array');
  if (list.length > MAX_UPDATE_EVENTS) throw new CborShapeError('events.e: too many events');
  const hash = getBytes(m, 'hash', 'events');
  if (!isSha256Multihash(hash)) throw new CborShapeError('events.hash: not a sha2-256 multihash');
  const c: CompressedEvents = {
    i: getUint(m, 'i', 'events', true),
    hash,
    e: list.map((x) => {
      if (!(x instanceof Uint8Array)) throw new CborShapeError('events.e: expected byte strings');
      return eFromBytes(x);
    }),
  };
  return c.e.length === 0 ? [] : uncompressEvents(c);
}

export function updateFromCbor(v: unknown): Update {
  return shape('update', () => {
    const m = asMap(v, 'update');
    const e = m.get('e');
    return { sacc: signedAccumulatorFromCbor(m.get('sacc')), events: e === undefined || e === null ? [] : eventListFromCbor(e) };
  });
}

export function decodeUpdate(bytes: Uint8Array): Update | null {
  const v = shape('update', () => decodeCbor(bytes));
  return v === null ? null : updateFromCbor(v);
}

/** GET update/{count}: {counter → Update}. */
export function encodeUpdateMap(updates: ReadonlyMap<number, Update>): Uint8Array {
  return encodeCbor(new Map([...updates].map(([k, u]) => [k, updateCbor(u)])));
}

export function decodeUpdateMap(bytes: Uint8Array): Map<number, Update> {
  return shape('update map', () => {
    const m = asMap(decodeCbor(bytes), 'update map');
    const out = new Map<number, Update>();
    for (const [k, v] of m) {
      if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0) throw new CborShapeError('update map: bad key counter');
      out.set(k, updateFromCbor(v));
    }
    return out;
  });
}

export function encodeEventList(events: readonly RevocationEvent[]): Uint8Array {
  return encodeCbor(eventListCbor(events));
}

export function decodeEventList(bytes: Uint8Array): RevocationEvent[] {
  return shape('event list', () => eventListFromCbor(decodeCbor(bytes)));
}

// ---- JSON (hashes base64url with padding, integers and data std base64) ----

export interface SignedAccumulatorJson {
  data: string;
  pk: number;
}

export interface UpdateJson {
  sacc: SignedAccumulatorJson;
  e?: { i: number; hash: string; e: string[] };
}

/** Go's base64.URLEncoding: URL alphabet, but padded. */
export function base64UrlPadded(b: Uint8Array): string {
  return Buffer.from(b).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export function signedAccumulatorToJson(s: SignedAccumulator): SignedAccumulatorJson {
  return { data: Buffer.from(s.data).toString('base64'), pk: s.pk };
}

export function updateToJson(u: Update): UpdateJson {
  const out: UpdateJson = { sacc: signedAccumulatorToJson(u.sacc) };
  if (u.events.length > 0) {
    const c = compressEvents(u.events);
    out.e = { i: c.i, hash: base64UrlPadded(c.hash), e: c.e.map(encodeB64) };
  }
  return out;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RevocationError('MALFORMED', `${what} must be an object`);
  return v as Record<string, unknown>;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

export function signedAccumulatorFromJson(v: unknown): SignedAccumulator {
  const o = obj(v, 'sacc');
  if (typeof o.data !== 'string' || !B64.test(o.data) || o.data.length > 4096) throw new RevocationError('MALFORMED', 'sacc.data must be base64');
  const pk = o.pk ?? 0;
  if (typeof pk !== 'number' || !Number.isSafeInteger(pk) || pk < 0) throw new RevocationError('MALFORMED', 'sacc.pk must be an unsigned integer');
  return { data: Buffer.from(o.data, 'base64'), pk };
}

export function updateFromJson(v: unknown): Update {
  const o = obj(v, 'update');
  const sacc = signedAccumulatorFromJson(o.sacc);
  if (o.e === undefined || o.e === null) return { sacc, events: [] };
  const e = obj(o.e, 'update.e');
  const i = e.i ?? 0;
  if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0) throw new RevocationError('MALFORMED', 'update.e.i must be an unsigned integer');
  if (typeof e.hash !== 'string' || !B64URL.test(e.hash)) throw new RevocationError('MALFORMED', 'update.e.hash must be base64url');
  const hash = Buffer.from(e.hash, 'base64url');
  if (!isSha256Multihash(hash)) throw new RevocationError('MALFORMED', 'update.e.hash is not a sha2-256 multihash');
  const list = e.e ?? [];
  if (!Array.isArray(list) || list.length > MAX_UPDATE_EVENTS) throw new RevocationError('MALFORMED', 'update.e.e must be an array of bounded length');
  const values = list.map((x, k) => {
    try {
      return decodeB64(x, `update.e.e[${k}]`);
    } catch (err) {
      throw new RevocationError('MALFORMED', (err as Error).message);
    }
  });
  return { sacc, events: values.length === 0 ? [] : uncompressEvents({ i, hash, e: values }) };
}
