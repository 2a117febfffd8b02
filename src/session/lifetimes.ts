// Deadlines and retention (spec §6.2). Times are milliseconds since the epoch.
import { isFinal, type Session } from './session.js';

export interface Lifetimes {
  /** max_session_lifetime in ms: how long an unfinished session waits for activity. */
  maxSessionLifetimeMs: number;
  /** session_result_lifetime in ms: how long a result stays readable after the session ended. */
  sessionResultLifetimeMs: number;
}

const MINUTE_MS = 60_000;

/** Both options are minutes, 0 meaning the default (15 and 5). */
export function lifetimesFromMinutes(maxSessionLifetime: number, sessionResultLifetime: number): Lifetimes {
  return {
    maxSessionLifetimeMs: (maxSessionLifetime > 0 ? maxSessionLifetime : 15) * MINUTE_MS,
    sessionResultLifetimeMs: (sessionResultLifetime > 0 ? sessionResultLifetime : 5) * MINUTE_MS,
  };
}

/** How long the session may stay inactive in its current status; 0 for final statuses. */
function allowedInactivity(session: Session, lifetimes: Lifetimes): number {
  if (isFinal(session.status)) return 0;
  if (session.status === 'INITIALIZED' && session.timeout > 0) return session.timeout * 1000;
  return lifetimes.maxSessionLifetimeMs;
}

/** The moment a non-final session times out (undefined for final sessions). */
export function deadline(session: Session, lifetimes: Lifetimes): number | undefined {
  if (isFinal(session.status)) return undefined;
  return session.lastActive + allowedInactivity(session, lifetimes);
}

export function isOverdue(session: Session, lifetimes: Lifetimes, now: number): boolean {
  const end = deadline(session, lifetimes);
  return end !== undefined && now >= end;
}

/** How long the store should keep the record from `now`; <= 0 means it is already gone. */
export function retention(session: Session, lifetimes: Lifetimes, now: number): number {
  const remaining = allowedInactivity(session, lifetimes) - (now - session.lastActive);
  return remaining + lifetimes.sessionResultLifetimeMs;
}
