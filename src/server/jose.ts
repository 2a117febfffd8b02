// jose is loaded on first use: it is ~180 modules and several MB resident, and only JWT
// requestors, result JWTs and keyshare proofs need it; many servers never do.
type Jose = typeof import('jose');

let loading: Promise<Jose> | undefined;

export function loadJose(): Promise<Jose> {
  loading ??= import('jose');
  return loading;
}
