// Deep freezing that also shares: the open sessions of one kind carry equal sub-trees (the
// `disclose` condiscon of the request, twice; `options`; `outcome`; the `@context` URL), and
// holding one frozen copy of each instead of one per session was ~40% of a session's heap.
//
// Sharing works bottom-up: a node's members are shared first, so two equal nodes then have
// identical members, and finding an equal node already stored needs only a shallow comparison
// (members by identity, in the same order) against the few stored nodes with the same first
// member. No key strings are built: building and hashing them cost more than the freezing itself.
// A shared node has the same members in the same order as the one it replaces, so it serialises to
// the same JSON (and the Redis store, which serialises, is unaffected). Candidates live in a
// two-generation cache of bounded size, so nodes seen once (a session's request, holding its nonce)
// fall out while the ones every session uses stay.

/** First members per cache generation; the cache holds at most twice as many. */
const GENERATION = 512;
/** Stored nodes kept per first member; past it the newest makes way, so the first ones found stay. */
const CANDIDATES = 4;
/**
 * Nodes bigger than this (roughly, in bytes, counting what they hold that is not shared) are
 * shared neither way: the cache keeps its nodes after their sessions end, so this bounds it
 * (2 x GENERATION x CANDIDATES x MAX_WEIGHT = 4 MB at worst), and big sub-trees rarely repeat.
 */
const MAX_WEIGHT = 1024;
/** Longer strings are not interned: replay answers and the like are one-offs. */
const MAX_STRING = 256;
/** Cache key of empty arrays and objects, which have no first member. */
const EMPTY = Symbol('empty');

class Generations<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    this.#young.set(key, value);
    if (this.#young.size >= GENERATION) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }
}

type Node = Record<string | number, unknown>;

export class ValueSharer {
  readonly #nodes = new Generations<unknown, Node[]>();
  readonly #strings = new Generations<string, string>();
  /** Rough size of what the last #share or #shareMember kept of its own (nothing shared). */
  #weight = 0;

  /**
   * Freezes `root` and everything reachable from it, in place, and returns it; its unfrozen
   * plain members (at any depth) are replaced by equal frozen ones that other stored values may
   * hold too. `root` itself is never shared (it is the session: its tokens are its own).
   * Already frozen objects are left as they are: a new session built from the previous one shares
   * most of its members with it, and those were frozen (and shared) when it was stored.
   */
  freeze<T>(root: T): T {
    if (root === null || typeof root !== 'object' || Object.isFrozen(root)) return root;
    if (!isPlain(root)) {
      deepFreezeRest(root);
      return root;
    }
    const node = root as Node;
    // The root's own strings are its tokens and code constants: nothing to gain from interning.
    if (Array.isArray(node)) for (let i = 0; i < node.length; i++) this.#shareMember(node, i, node[i]);
    else for (const name in node) this.#shareMember(node, name, node[name]);
    Object.freeze(node);
    return root;
  }

  /** Replaces object member `name` of `node` by its shared copy, freezing what it keeps; sets #weight. */
  #shareMember(node: Node, name: string | number, value: unknown): void {
    this.#weight = typeof value === 'string' ? 16 + value.length : 8;
    if (value === null || Object.isFrozen(value)) return;
    if (typeof value === 'object') {
      if (isPlain(value)) {
        const shared = this.#share(value as Node);
        if (shared !== value) node[name] = shared;
      } else {
        deepFreezeRest(value);
        this.#weight = Infinity;
      }
    } else if (typeof value === 'function') {
      deepFreezeRest(value);
      this.#weight = Infinity;
    }
  }

  /** The stored node equal to `node` (unfrozen, plain), or `node` itself, frozen, from now on a candidate. */
  #share(node: Node): Node {
    let first: unknown = EMPTY;
    let weight = 32;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        this.#shareMember(node, i, node[i]);
        weight += this.#weight;
      }
      if (node.length > 0) first = node[0];
    } else {
      let seen = false;
      for (const name in node) {
        this.#shareMember(node, name, node[name]);
        weight += this.#weight;
        if (!seen) {
          first = node[name];
          seen = true;
        }
      }
    }
    if (weight > MAX_WEIGHT) {
      Object.freeze(node);
      this.#weight = weight;
      return node;
    }
    const candidates = this.#nodes.get(first);
    if (candidates !== undefined) {
      for (const candidate of candidates) {
        if (sameMembers(candidate, node)) {
          this.#weight = 8;
          return candidate;
        }
      }
    }
    // New: it becomes a candidate itself, with its strings interned first, so that requests,
    // which are never equal (each has its nonce), still share their constant strings.
    this.#internStrings(node);
    Object.freeze(node);
    if (candidates === undefined) this.#nodes.set(first, [node]);
    else if (candidates.length < CANDIDATES) candidates.push(node);
    else candidates[candidates.length - 1] = node;
    this.#weight = weight;
    return node;
  }

  #internStrings(node: Node): void {
    const intern = (name: string | number, value: unknown): void => {
      if (typeof value !== 'string' || value.length > MAX_STRING) return;
      const shared = this.#strings.get(value);
      // Written back whatever the comparison says: === compares strings by content.
      if (shared !== undefined) node[name] = shared;
      else this.#strings.set(value, value);
    };
    if (Array.isArray(node)) for (let i = 0; i < node.length; i++) intern(i, node[i]);
    else for (const name in node) intern(name, node[name]);
  }
}

/**
 * Whether `a` and `b` have the same kind, the same member names in the same order and identical
 * members (Object.is: so -0 and 0 differ, as they do in memory). Holes and `undefined` count as
 * different, so sparse arrays share only with arrays sparse alike.
 */
function sameMembers(a: Node, b: Node): boolean {
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i])) return false;
      if (a[i] === undefined && i in a !== i in b) return false;
    }
    return true;
  }
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const names = Object.keys(b);
  let i = 0;
  for (const name in a) {
    if (names[i] !== name || !Object.is(a[name], b[name])) return false;
    i++;
  }
  return i === names.length;
}

/** Plain containers: arrays and objects whose prototype is Object's (or null). */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value)) return proto === Array.prototype;
  return proto === Object.prototype || proto === null;
}

/** Freezes what sharing leaves alone (objects of other classes), as deep freezing always did. */
function deepFreezeRest(value: object): void {
  if (Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const name in value) {
    const member = (value as Record<string, unknown>)[name];
    if (member !== null && (typeof member === 'object' || typeof member === 'function')) deepFreezeRest(member);
  }
}
