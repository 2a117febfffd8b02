// Freezing a value and everything reachable from it: for values handed out more than once.

export function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const name of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[name]);
  }
  return value;
}
