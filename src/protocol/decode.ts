// Decoding JSON objects the way the reference's Go decoder does, so that every body it accepts
// we accept too: member names match case-insensitively (an exact match wins), unknown members
// are ignored, and `null` counts as absent. Failures become INVALID_REQUEST-style messages.
import { z } from 'zod';

/** A JSON object whose members fold onto `shape`'s keys; members not in the shape are dropped. */
export function goObject<T extends z.ZodRawShape>(shape: T) {
  const fields = Object.keys(shape);
  const folded = new Map(fields.map((f) => [f.toLowerCase(), f]));
  return z.preprocess((input) => {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
    const out: Record<string, unknown> = {};
    // Later members win, as in Go; only shape keys are ever assigned (no prototype keys).
    for (const [name, value] of Object.entries(input)) {
      const field = Object.hasOwn(shape, name) ? name : folded.get(name.toLowerCase());
      if (field === undefined) continue;
      if (value === null) delete out[field];
      else out[field] = value;
    }
    return out;
  }, z.object(shape));
}

/** A JSON object used as a map; a `__proto__` member is refused rather than silently lost. */
export function goRecord<V extends z.ZodType>(value: V) {
  return z
    .custom<Record<string, unknown>>(
      (input) => input !== null && typeof input === 'object' && !Array.isArray(input) && !Object.hasOwn(input, '__proto__'),
      { message: 'expected an object' },
    )
    .pipe(z.record(z.string(), value));
}

/** Integers as Go's int fields take them: whole numbers that fit exactly. */
export const goInt = z.number().refine(Number.isSafeInteger, { message: 'expected an integer in range' });
export const goUint = goInt.refine((n) => n >= 0, { message: 'expected a non-negative integer' });

/** One line naming the first problem and where it is, e.g. `credentials.0.validity: expected …`. */
export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid input';
  const where = issue.path.map(String).join('.');
  return where ? `${where}: ${issue.message}` : issue.message;
}
