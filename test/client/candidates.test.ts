import { describe, expect, it } from 'vitest';
import { chooseDefault, disclosureCandidates } from '../../src/client/candidates.js';
import { ClientError } from '../../src/client/errors.js';
import type { Condiscon } from '../../src/client/messages.js';
import type { WalletCredential } from '../../src/client/wallet.js';

const NOW = 1_800_000_000;
const WEEK = 604800;
const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const STEMPAS = 'irma-demo.stemmen.stempas';

function fullName(id: string, attrs: Partial<Record<string, string | null>>, opts: { issuedAt?: number; expires?: number; storedAt?: number } = {}): WalletCredential {
  return {
    id,
    credentialType: FULLNAME,
    keyCounter: 2,
    issuedAt: opts.issuedAt ?? NOW - 10 * WEEK,
    expires: opts.expires ?? NOW + 10 * WEEK,
    attributes: { firstnames: 'A', firstname: 'Alice', familyname: 'Example', prefix: null, ...attrs },
    storedAt: opts.storedAt ?? 0,
  };
}

function stempas(id: string): WalletCredential {
  return {
    id,
    credentialType: STEMPAS,
    keyCounter: 0,
    issuedAt: NOW - WEEK,
    expires: NOW + WEEK,
    attributes: { election: 'Gemeenteraad 2026', votingnumber: 'BWze' },
    storedAt: 0,
  };
}

const attr = (short: string) => `${FULLNAME}.${short}`;
const one = (...ids: string[]): Condiscon => [[ids.map((type) => ({ type }))]];

describe('disclosure candidates', () => {
  it('offers the matching attribute with its value and credential', () => {
    const c = disclosureCandidates(one(attr('firstname')), [fullName('c1', {})], { now: NOW });
    expect(c).toEqual([[[{ id: attr('firstname'), credentialId: 'c1', rawValue: 'Alice' }]]]);
  });

  it('honours a required value', () => {
    const wallet = [fullName('alice', {}), fullName('bob', { firstname: 'Bob' })];
    const c = disclosureCandidates([[[{ type: attr('firstname'), value: 'Bob' }]]], wallet, { now: NOW });
    expect(c[0].map((o) => o[0].credentialId)).toEqual(['bob']);
    const none = disclosureCandidates([[[{ type: attr('firstname'), value: 'Carol' }]]], wallet, { now: NOW });
    expect(none).toEqual([[]]);
  });

  it('discloses an absent optional attribute as null unless notNull is asked', () => {
    const wallet = [fullName('c1', { prefix: null })];
    expect(disclosureCandidates(one(attr('prefix')), wallet, { now: NOW })[0][0][0].rawValue).toBeNull();
    expect(disclosureCandidates([[[{ type: attr('prefix'), notNull: true }]]], wallet, { now: NOW })).toEqual([[]]);
  });

  it('skips expired credentials unless the type is in skipExpiryCheck', () => {
    const wallet = [fullName('old', {}, { expires: NOW - 1 })];
    expect(disclosureCandidates(one(attr('firstname')), wallet, { now: NOW })).toEqual([[]]);
    const skipped = disclosureCandidates(one(attr('firstname')), wallet, { now: NOW, skipExpiryCheck: [FULLNAME] });
    expect(skipped[0]).toHaveLength(1);
  });

  it('never mixes two credentials of one type inside one inner conjunction', () => {
    const wallet = [fullName('alice', { familyname: 'X' }), fullName('bob', { firstname: 'Bob', familyname: 'Y' })];
    const mixed: Condiscon = [[[{ type: attr('firstname'), value: 'Alice' }, { type: attr('familyname'), value: 'Y' }]]];
    expect(disclosureCandidates(mixed, wallet, { now: NOW })).toEqual([[]]);
    const same: Condiscon = [[[{ type: attr('firstname'), value: 'Bob' }, { type: attr('familyname'), value: 'Y' }]]];
    const c = disclosureCandidates(same, wallet, { now: NOW });
    expect(c[0]).toHaveLength(1);
    expect(c[0][0].map((a) => a.credentialId)).toEqual(['bob', 'bob']);
  });

  it('combines credentials of different types in one conjunction (every combination, newest first)', () => {
    const wallet = [
      fullName('older', {}, { issuedAt: NOW - 20 * WEEK }),
      fullName('newer', {}, { issuedAt: NOW - 2 * WEEK }),
      stempas('s1'),
    ];
    const c = disclosureCandidates(one(attr('familyname'), `${STEMPAS}.election`), wallet, { now: NOW });
    expect(c[0].map((o) => o.map((a) => a.credentialId))).toEqual([
      ['newer', 's1'],
      ['older', 's1'],
    ]);
  });

  it('answers a credential-type request with "present"', () => {
    const c = disclosureCandidates(one(FULLNAME), [fullName('c1', {})], { now: NOW });
    expect(c[0][0]).toEqual([{ id: FULLNAME, credentialId: 'c1', rawValue: 'present' }]);
  });

  it('lists the empty option of an optional disjunction', () => {
    const condiscon: Condiscon = [[[{ type: attr('firstname') }], []]];
    expect(disclosureCandidates(condiscon, [], { now: NOW })).toEqual([[[]]]);
  });
});

describe('default choice', () => {
  it('prefers disclosing over the empty option, and the first option otherwise', () => {
    const condiscon: Condiscon = [[[], [{ type: attr('firstname') }]], [[{ type: attr('familyname') }]]];
    const choice = chooseDefault(disclosureCandidates(condiscon, [fullName('c1', {})], { now: NOW }));
    expect(choice).toEqual([
      [{ id: attr('firstname'), credentialId: 'c1', rawValue: 'Alice' }],
      [{ id: attr('familyname'), credentialId: 'c1', rawValue: 'Example' }],
    ]);
  });

  it('falls back to the empty option', () => {
    const condiscon: Condiscon = [[[{ type: attr('firstname') }], []]];
    expect(chooseDefault(disclosureCandidates(condiscon, [], { now: NOW }))).toEqual([[]]);
  });

  it('fails with requiredAttributeMissing when a disjunction cannot be satisfied', () => {
    const cands = disclosureCandidates(one(`${STEMPAS}.election`), [fullName('c1', {})], { now: NOW });
    try {
      chooseDefault(cands);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ClientError);
      expect((err as ClientError).type).toBe('requiredAttributeMissing');
    }
  });
});
