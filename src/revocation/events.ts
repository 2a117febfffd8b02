// The revocation event chain: every revocation appends an event {index, e, parentHash}, each
// event commits to its parent by hash, and the signed accumulator commits to the last event.
// Hashes are sha2-256 multihashes (0x12 0x20 ‖ digest), the only kind gabi accepts.
import { createHash, timingSafeEqual } from 'node:crypto';
import { fromBytes, toBytes } from '../idemix/bigint.js';
import { RevocationError } from './errors.js';

export const MULTIHASH_SHA256_PREFIX = Uint8Array.of(0x12, 0x20);
export const MULTIHASH_LENGTH = 34;

export interface RevocationEvent {
  index: number;
  /** The revoked credential's revocation attribute (1 for the initial event). */
  e: bigint;
  /** Multihash of the previous event. */
  parentHash: Uint8Array;
}

export function multihashSha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(MULTIHASH_LENGTH);
  out.set(MULTIHASH_SHA256_PREFIX);
  out.set(createHash('sha256').update(data).digest(), 2);
  return out;
}

export function isSha256Multihash(h: Uint8Array): boolean {
  return h.length === MULTIHASH_LENGTH && h[0] === 0x12 && h[1] === 0x20;
}

/** Full-length comparison (gabi's compares only a prefix: digest pitfall 6). */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** uint64_BE(index) ‖ parentHash ‖ minimal big-endian bytes of e. */
export function eventHash(ev: RevocationEvent): Uint8Array {
  const idx = Buffer.alloc(8);
  idx.writeBigUInt64BE(BigInt(ev.index));
  return multihashSha256(Buffer.concat([idx, ev.parentHash, toBytes(ev.e)]));
}

/** The chain's root: index 0, e = 1, parent = the all-zero sha2-256 multihash. */
export const INITIAL_EVENT: RevocationEvent = Object.freeze({
  index: 0,
  e: 1n,
  parentHash: Uint8Array.from([0x12, 0x20, ...new Uint8Array(32)]),
});

export function nextEvent(previous: RevocationEvent, e: bigint): RevocationEvent {
  return { index: previous.index + 1, e, parentHash: eventHash(previous) };
}

/** Checks that events are consecutive and each names its predecessor; returns the last event's hash. */
export function verifyEventChain(events: readonly RevocationEvent[]): Uint8Array {
  if (events.length === 0) throw new RevocationError('MALFORMED', 'empty event list');
  let prevHash: Uint8Array | null = null;
  let prevIndex = -1;
  for (const ev of events) {
    if (!isSha256Multihash(ev.parentHash)) throw new RevocationError('MALFORMED', 'event parent hash is not a sha2-256 multihash');
    if (prevHash !== null) {
      if (ev.index !== prevIndex + 1) throw new RevocationError('SIGNATURE', 'event indices are not consecutive');
      if (!hashesEqual(ev.parentHash, prevHash)) throw new RevocationError('SIGNATURE', `event ${ev.index} does not chain onto its predecessor`);
    }
    prevHash = eventHash(ev);
    prevIndex = ev.index;
  }
  return prevHash as Uint8Array;
}

/** The wire's compressed EventList: first index, first parent hash, then only the e values. */
export interface CompressedEvents {
  i: number;
  hash: Uint8Array;
  e: bigint[];
}

export function compressEvents(events: readonly RevocationEvent[]): CompressedEvents {
  if (events.length === 0) throw new RevocationError('MALFORMED', 'cannot compress an empty event list');
  return { i: events[0].index, hash: events[0].parentHash, e: events.map((ev) => ev.e) };
}

export function uncompressEvents(c: CompressedEvents): RevocationEvent[] {
  const out: RevocationEvent[] = [];
  let parent = c.hash;
  c.e.forEach((e, k) => {
    const ev = { index: c.i + k, e, parentHash: parent };
    out.push(ev);
    if (k < c.e.length - 1) parent = eventHash(ev);
  });
  return out;
}

export function eBytes(e: bigint): Uint8Array {
  return toBytes(e);
}

export function eFromBytes(b: Uint8Array): bigint {
  return fromBytes(b);
}
