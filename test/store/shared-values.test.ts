import { describe, expect, it } from 'vitest';
import { ValueSharer } from '../../src/store/shared-values.js';

const session = (nonce: string) =>
  JSON.parse(
    JSON.stringify({
      clientToken: `ct-${nonce}`,
      request: { '@context': 'https://irma.app/ld/request/disclosure/v2', nonce, disclose: [[['a.b.c.d'], ['a.b.c.e']]] },
      clientRequest: { '@context': 'https://irma.app/ld/request/disclosure/v2', nonce, protocolVersion: '2.8', disclose: [[['a.b.c.d'], ['a.b.c.e']]] },
      options: { pairingMethod: 'none' },
      outcome: {},
      empty: [],
    }),
  );

describe('ValueSharer', () => {
  it('freezes deeply and shares equal sub-trees across values, keeping their JSON', () => {
    const sharer = new ValueSharer();
    const a = session('n1');
    const b = session('n2');
    const jsonA = JSON.stringify(a);
    const jsonB = JSON.stringify(b);
    expect(sharer.freeze(a)).toBe(a);
    sharer.freeze(b);
    expect(JSON.stringify(a)).toBe(jsonA);
    expect(JSON.stringify(b)).toBe(jsonB);
    expect(Object.isFrozen(a.request.disclose[0][1])).toBe(true);
    expect(b.request.disclose).toBe(a.request.disclose);
    expect(b.clientRequest.disclose).toBe(a.request.disclose);
    expect(b.options).toBe(a.options);
    expect(b.outcome).toBe(a.outcome);
    expect(b.empty).toBe(a.empty);
    expect(b.outcome).not.toBe(b.empty);
    // Never the root, nor what differs.
    expect(b).not.toBe(a);
    expect(b.request).not.toBe(a.request);
  });

  it('shares only what is equal member by member, in order and in kind', () => {
    const sharer = new ValueSharer();
    const stored = sharer.freeze({ m: { x: 1, y: 2 }, z: { n: 0 }, u: { v: undefined }, p: { q: 1 }, s: [1, 2] }) as Record<string, unknown>;
    const proto = Object.create(null) as Record<string, unknown>;
    proto.q = 1;
    const other = sharer.freeze({ m: { y: 2, x: 1 }, z: { n: -0 }, u: {}, p: proto, s: { 0: 1, 1: 2 } }) as Record<string, unknown>;
    for (const name of ['m', 'z', 'u', 'p', 's']) expect(other[name]).not.toBe(stored[name]);
    expect(Object.is((other.z as { n: number }).n, -0)).toBe(true);
    expect(Object.getPrototypeOf(other.p)).toBe(null);
  });

  it('leaves frozen members and objects of other classes alone, and freezes them', () => {
    const sharer = new ValueSharer();
    const kept = Object.freeze({ k: 1 });
    const date = new Date(0);
    const v = sharer.freeze({ kept, box: { date } });
    expect(v.kept).toBe(kept);
    expect(v.box.date).toBe(date);
    expect(Object.isFrozen(date)).toBe(true);
    const w = sharer.freeze({ box: { date: new Date(0) } });
    expect(w.box).not.toBe(v.box);
  });

  it('keeps sharing the common sub-trees while one-off values pass through', () => {
    const sharer = new ValueSharer();
    const first = sharer.freeze(session('first'));
    let last = first;
    for (let i = 0; i < 5000; i++) last = sharer.freeze(session(`n${i}`));
    expect(last.request.disclose).toBe(first.request.disclose);
    expect(last.request['@context']).toBe(first.request['@context']);
  });
});

describe('ValueSharer bounds', () => {
  it('does not keep big sub-trees, which would outlive their sessions in its cache', () => {
    const sharer = new ValueSharer();
    const big = () => ({ list: Array.from({ length: 100 }, (_, i) => `attribute-${i}`), small: ['x'] });
    const a = sharer.freeze({ v: big() });
    const b = sharer.freeze({ v: big() });
    expect(b.v.list).not.toBe(a.v.list);
    expect(b.v.small).toBe(a.v.small);
    expect(Object.isFrozen(b.v.list)).toBe(true);
  });
});
