// Conjunctions of disjunctions of conjunctions of attribute requests (spec §7.1): `disclose` is
// an AND-list of disjunctions, a disjunction an OR-list of inner conjunctions, an inner
// conjunction an AND-list of attribute requests. An empty inner conjunction makes its
// disjunction optional.
import { z } from 'zod';
import { goObject } from './decode.js';
import { credentialTypeOf, MAX_IDENTIFIER_LENGTH, partsCount } from './identifiers.js';
import { ProtocolError } from './errors.js';
import type { SchemeRegistry } from '../scheme/types.js';

/** An attribute (or, with a three-part id, credential) that must be disclosed. */
export interface AttributeRequest {
  type: string;
  /** Required value; absent means any value (or null, unless notNull). */
  value?: string;
  notNull?: boolean;
}
export type AttributeCon = AttributeRequest[];
export type AttributeDisCon = AttributeCon[];
export type AttributeConDisCon = AttributeDisCon[];

/** The wire form: a bare id string, or an object when it has a value or notNull. */
export type AttributeRequestJson = string | { type: string; value?: string; notNull?: boolean };

const identifier = z.string().max(MAX_IDENTIFIER_LENGTH, { message: 'identifier too long' });

export const attributeRequestSchema = z
  .union([
    identifier,
    goObject({ type: identifier.default(''), value: z.string().optional(), notNull: z.boolean().optional() }),
  ])
  .transform((r): AttributeRequest => {
    if (typeof r === 'string') return { type: r };
    const out: AttributeRequest = { type: r.type };
    if (r.value !== undefined) out.value = r.value;
    if (r.notNull) out.notNull = true;
    return out;
  });

export const conDisConSchema = z.array(z.array(z.array(attributeRequestSchema)));

export function attributeRequestToJson(r: AttributeRequest): AttributeRequestJson {
  if (r.value === undefined && !r.notNull) return r.type;
  const out: { type: string; value?: string; notNull?: boolean } = { type: r.type };
  if (r.value !== undefined) out.value = r.value;
  if (r.notNull) out.notNull = true;
  return out;
}

export function conDisConToJson(cdc: AttributeConDisCon): AttributeRequestJson[][][] {
  return cdc.map((dis) => dis.map((con) => con.map(attributeRequestToJson)));
}

export function* attributeRequests(cdc: AttributeConDisCon): Generator<AttributeRequest> {
  for (const dis of cdc) for (const con of dis) yield* con;
}

/**
 * The scheme-independent rules, with the reference's messages: identifiers of 3 or 4 parts,
 * attributes of one credential type adjacent within an inner conjunction, no empty disjunction.
 */
export function checkConDisConStructure(cdc: AttributeConDisCon): void {
  for (const dis of cdc) {
    if (dis.length === 0) throw new ProtocolError('INVALID_REQUEST', 'Empty disjunction');
    for (const con of dis) {
      const seen = new Set<string>();
      let last: string | undefined;
      for (const r of con) {
        const parts = partsCount(r.type);
        if (parts !== 4 && parts !== 3) {
          throw new ProtocolError('INVALID_REQUEST', `Expected attribute request to consist of 4 or 3 parts, ${parts} found`);
        }
        const t = credentialTypeOf(r.type);
        if (seen.has(t) && last !== t) {
          throw new ProtocolError(
            'INVALID_REQUEST',
            'Within inner conjunctions, attributes from the same credential type must be adjacent',
          );
        }
        last = t;
        seen.add(t);
      }
    }
  }
}

/**
 * The scheme-dependent rule: an inner conjunction draws from at most one non-singleton
 * credential type (a singleton can only be held once, so it cannot be ambiguous).
 * Identifiers must already be known.
 */
export function checkConDisConSingletons(cdc: AttributeConDisCon, schemes: SchemeRegistry): void {
  for (const dis of cdc) {
    for (const con of dis) {
      let nonSingleton: string | undefined;
      for (const r of con) {
        const t = credentialTypeOf(r.type);
        if (schemes.credentialType(t)?.singleton) continue;
        if (nonSingleton !== undefined && nonSingleton !== t) {
          throw new ProtocolError('INVALID_REQUEST', 'Multiple non-singletons within one inner conjunction are not allowed');
        }
        nonSingleton = t;
      }
    }
  }
}
