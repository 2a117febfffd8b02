// The RSA-B accumulator ν of one issuer key, its signed form, creation and removal (revocation).
import { fromBytes, gcd, modInverse, randomBelow, toBytes } from '../idemix/bigint.js';
import type { PrivateKey, PublicKey } from '../idemix/keys.js';
import { modPow } from '../idemix/modexp.js';
import { asMap, CborShapeError, decodeCbor, encodeCbor, getBytes, getInt64, getUint } from './cbor.js';
import { RevocationError } from './errors.js';
import { eventHash, INITIAL_EVENT, isSha256Multihash, nextEvent, type RevocationEvent } from './events.js';
import { openSignedMessage, signMessage } from './signed-message.js';

export interface Accumulator {
  nu: bigint;
  index: number;
  /** Unix seconds of signing. */
  time: number;
  /** Multihash of the last event. */
  eventHash: Uint8Array;
}

/** An accumulator signed with the ECDSA key of issuer key `pk`, kept as the exact bytes signed. */
export interface SignedAccumulator {
  data: Uint8Array;
  pk: number;
}

export function encodeAccumulator(acc: Accumulator): Uint8Array {
  return encodeCbor(
    new Map<string, unknown>([
      ['Nu', toBytes(acc.nu)],
      ['Index', acc.index],
      ['Time', acc.time],
      ['EventHash', acc.eventHash],
    ]),
  );
}

export function decodeAccumulator(bytes: Uint8Array): Accumulator {
  try {
    const m = asMap(decodeCbor(bytes), 'accumulator');
    const eventHashBytes = getBytes(m, 'EventHash', 'accumulator');
    if (!isSha256Multihash(eventHashBytes)) throw new CborShapeError('accumulator.EventHash: not a sha2-256 multihash');
    return {
      nu: fromBytes(getBytes(m, 'Nu', 'accumulator')),
      index: getUint(m, 'Index', 'accumulator', true),
      time: Number(getInt64(m, 'Time', 'accumulator', true)),
      eventHash: eventHashBytes,
    };
  } catch (e) {
    if (e instanceof RevocationError) throw e;
    throw new RevocationError('MALFORMED', `undecodable accumulator: ${(e as Error).message}`);
  }
}

export function signAccumulator(acc: Accumulator, sk: PrivateKey): SignedAccumulator {
  if (sk.ecdsa === undefined) throw new RevocationError('REVOCATION', `private key ${sk.counter} has no ECDSA revocation key`);
  return { data: signMessage(encodeAccumulator(acc), sk.ecdsa), pk: sk.counter };
}

/**
 * Verifies the ECDSA signature with the public key of counter `sacc.pk` and returns the
 * accumulator; `pk` must be that key and carry revocation material.
 */
export function openSignedAccumulator(sacc: SignedAccumulator, pk: PublicKey): Accumulator {
  if (pk.counter !== sacc.pk) throw new RevocationError('SIGNATURE', 'signed accumulator names the wrong public key');
  if (!publicKeySupportsRevocation(pk) || pk.ecdsa === undefined) {
    throw new RevocationError('REVOCATION', `public key ${pk.counter} does not support revocation`);
  }
  const acc = decodeAccumulator(openSignedMessage(sacc.data, pk.ecdsa));
  if (acc.nu <= 0n || acc.nu >= pk.n) throw new RevocationError('MALFORMED', 'accumulator value out of range');
  return acc;
}

/** The rule of the key files: revocation is supported iff G, H and ECDSA are all present. */
export function publicKeySupportsRevocation(pk: PublicKey): boolean {
  return pk.G !== undefined && pk.H !== undefined && pk.ecdsa !== undefined;
}

/** A fresh accumulator ν₀ = r² mod n committing to the initial event; `now` in Unix seconds. */
export function newAccumulator(sk: PrivateKey, now: number): { acc: Accumulator; event: RevocationEvent } {
  let r: bigint;
  do r = randomBelow(sk.n);
  while (r === 0n || gcd(r, sk.n) !== 1n);
  return { acc: { nu: (r * r) % sk.n, index: 0, time: now, eventHash: eventHash(INITIAL_EVENT) }, event: INITIAL_EVENT };
}

/**
 * Removes revocation attribute `e` from the accumulator: ν' = ν^{1/e mod p'q'}, one new event
 * chained onto `last` (the accumulator's current last event).
 */
export function removeFromAccumulator(
  acc: Accumulator,
  last: RevocationEvent,
  e: bigint,
  sk: PrivateKey,
  now: number,
): { acc: Accumulator; event: RevocationEvent } {
  if (last.index !== acc.index) throw new RevocationError('REVOCATION', 'last event does not match the accumulator');
  if (e <= 1n || gcd(e, sk.order) !== 1n) throw new RevocationError('REVOCATION', 'revocation attribute is not invertible');
  const event = nextEvent(last, e);
  const nu = modPow(acc.nu, modInverse(e % sk.order, sk.order), sk.n);
  return { acc: { nu, index: event.index, time: now, eventHash: eventHash(event) }, event };
}
