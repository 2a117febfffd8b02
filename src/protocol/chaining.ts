// Chained sessions (spec §9.1): what the next session of a chain asks again implicitly.
import type { AttributeConDisCon } from './condiscon.js';
import type { DisclosedAttributes } from './results.js';

/**
 * The implicit disclosure for the next session: per list of the current session's `disclosed`
 * (EXTRA list included), one disjunction holding a single conjunction of those attributes, each
 * with the disclosed raw value required. It is not sent to the app, which re-discloses on its
 * own, but appended to the next request's condiscon when its proofs are checked.
 */
export function implicitDisclosure(disclosed: DisclosedAttributes | undefined): AttributeConDisCon {
  return (disclosed ?? []).map((list) => [
    (list ?? []).map((a) => (a.rawvalue === null ? { type: a.id } : { type: a.id, value: a.rawvalue })),
  ]);
}

/** The condiscon to check a chained session's proofs against. */
export function withImplicitDisclosure(condiscon: AttributeConDisCon, implicit: AttributeConDisCon): AttributeConDisCon {
  return [...condiscon, ...implicit];
}
