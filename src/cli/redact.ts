// A copy of the configuration that is safe to print: key material and passwords masked.

const SECRET_NAME = /^(key|pw|password)$|privkey|privatekey|password|Pw$|secret|encryptionkeys/i;
const MASK = '********';

/** Deep copy of `value` with every member whose name says it holds a secret replaced by a mask. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_NAME.test(k) && v !== undefined && v !== '' ? MASK : redactSecrets(v);
  }
  return out;
}
