// Where a server keeps revocation state: per (credential type, key counter) the signed accumulator
// and its event chain, and the authority's issuance records. memory-store.ts and sql-store.ts
// implement it; every change runs inside `write`, which serializes writers of one credential type
// (across processes, for SQL) and commits all or nothing.
import type { SignedAccumulator } from './accumulator.js';
import type { RevocationEvent } from './events.js';

export interface IssuanceRecord {
  key: string;
  credType: string;
  /** Unix nanoseconds; part of the primary key. */
  issued: bigint;
  pkCounter: number;
  /** The credential's revocation attribute e. */
  attr: bigint;
  /** Unix nanoseconds. */
  validUntil: bigint;
  /** Unix nanoseconds; 0 = not revoked. */
  revokedAt: bigint;
}

export interface StoredHead {
  sacc: SignedAccumulator;
  /** The event the accumulator commits to. */
  last: RevocationEvent;
}

/** Reads and writes inside one transaction on one credential type. */
export interface RevocationWriteTx {
  head(counter: number): Promise<StoredHead | undefined>;
  putAccumulator(counter: number, sacc: SignedAccumulator): Promise<void>;
  insertEvents(counter: number, events: readonly RevocationEvent[]): Promise<void>;
  /** Unrevoked records of this type with this key (and `issued`, when given). */
  unrevokedRecords(key: string, issued?: bigint): Promise<IssuanceRecord[]>;
  markRevoked(record: IssuanceRecord, at: bigint): Promise<void>;
}

export interface RevocationStore {
  /** Key counters with an accumulator, ascending. */
  counters(credType: string): Promise<number[]>;
  head(credType: string, counter: number): Promise<StoredHead | undefined>;
  /** Events with from ≤ index < to, ascending. */
  events(credType: string, counter: number, from: number, to: number): Promise<RevocationEvent[]>;
  write<T>(credType: string, fn: (tx: RevocationWriteTx) => Promise<T>): Promise<T>;
  /** Fails (duplicate primary key included) with the database's error. */
  insertIssuanceRecord(record: IssuanceRecord): Promise<void>;
  issuanceRecords(credType: string, key: string): Promise<IssuanceRecord[]>;
  deleteExpiredIssuanceRecords(nowNs: bigint): Promise<number>;
  /** Whether this store keeps issuance records (the in-memory one does not, as the reference's). */
  readonly durable: boolean;
  close(): Promise<void>;
}
