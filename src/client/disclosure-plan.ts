// From a disclosure choice to the shape of the proof list: one disclosure proof per credential
// (in order of first use), the gabi indices each proof discloses (always the metadata, 1), and
// the `indices` member telling the verifier where each disjunction's attributes are.
import type { SchemeRegistry } from '../scheme/types.js';
import type { DisclosureChoice } from './candidates.js';
import { ClientError } from './errors.js';

export interface AttributeIndex {
  /** Position of the proof in the proof list. */
  cred: number;
  /** gabi attribute index: 1 for a credential-type request, j + 2 for attribute type j. */
  attr: number;
}

export interface ProofPlan {
  credentialId: string;
  /** gabi indices to disclose, ascending; always contains 1 (metadata). */
  disclosed: number[];
}

export interface DisclosurePlan {
  proofs: ProofPlan[];
  indices: AttributeIndex[][];
}

export function planDisclosure(choice: DisclosureChoice, schemes: SchemeRegistry): DisclosurePlan {
  const proofs: ProofPlan[] = [];
  const position = new Map<string, number>();
  const indices = choice.map((option) =>
    option.map((a): AttributeIndex => {
      let cred = position.get(a.credentialId);
      if (cred === undefined) {
        cred = proofs.length;
        position.set(a.credentialId, cred);
        proofs.push({ credentialId: a.credentialId, disclosed: [1] });
      }
      const parts = a.id.split('.');
      if (parts.length === 3) return { cred, attr: 1 };
      const attrType = schemes.attributeType(a.id);
      if (!attrType) throw new ClientError('unknownIdentifier', `unknown attribute ${a.id}`);
      const attr = attrType.index + 2;
      const plan = proofs[cred];
      if (!plan.disclosed.includes(attr)) plan.disclosed.push(attr);
      return { cred, attr };
    }),
  );
  for (const p of proofs) p.disclosed.sort((x, y) => x - y);
  return { proofs, indices };
}
