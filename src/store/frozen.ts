// Deep freezing of stored values, so the memory store can hand out and keep the very objects it
// holds instead of copying them on every read and write. A frozen value cannot be half-written:
// a mutation that tries to edit what it was given throws (strict mode) before anything is stored.

/**
 * Freezes `value` and everything reachable from it, in place, and returns it. Stops at objects
 * that are already frozen: a new session built from the previous one by spreading shares most of
 * its members with it, and those were frozen when the previous one was stored.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
