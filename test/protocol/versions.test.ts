import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  formatVersion,
  negotiateVersion,
  parseProtocolVersion,
  parseVersionHeader,
  serverMinVersion,
  versionAbove,
  versionBelow,
} from '../../src/protocol/versions.js';
import { expectProtocolError, vectors } from './fixtures.js';

const v = (s: string) => parseProtocolVersion(s);

describe('parsing', () => {
  it('header values as a JSON number or a JSON string', () => {
    expect(parseVersionHeader('2.8')).toEqual({ major: 2, minor: 8 });
    expect(parseVersionHeader('"2.9"')).toEqual({ major: 2, minor: 9 });
    expect(parseVersionHeader(' 2.10 ')).toEqual({ major: 2, minor: 10 });
  });

  it('every recorded app header parses', () => {
    for (const s of vectors.sessions) {
      for (const c of s.client) {
        expect(formatVersion(parseVersionHeader(c.requestHeaders['x-irma-minprotocolversion']))).toMatch(/^2\.[45]$/);
        expect(formatVersion(parseVersionHeader(c.requestHeaders['x-irma-maxprotocolversion']))).toBe('2.8');
      }
    }
  });

  it('absent or malformed headers are MALFORMED_INPUT', () => {
    expectProtocolError(() => parseVersionHeader(undefined), 'MALFORMED_INPUT', 'unexpected end of JSON input');
    expectProtocolError(() => parseVersionHeader(''), 'MALFORMED_INPUT');
    expectProtocolError(() => parseVersionHeader('2.8.1'), 'MALFORMED_INPUT');
    expectProtocolError(() => parseVersionHeader('3'), 'MALFORMED_INPUT', 'Invalid protocol version number: not of form x.y');
    expectProtocolError(() => parseVersionHeader('"a.b"'), 'MALFORMED_INPUT', 'strconv.Atoi: parsing "a": invalid syntax');
    expectProtocolError(() => parseVersionHeader('"2.99999999999"'), 'MALFORMED_INPUT');
    expectProtocolError(() => parseVersionHeader('null'), 'MALFORMED_INPUT');
  });

  it('compares numerically, not as text', () => {
    expect(compareVersions(v('2.10'), v('2.9'))).toBe(1);
    expect(compareVersions(v('2.8'), v('2.8'))).toBe(0);
    expect(compareVersions(v('1.11'), v('2.0'))).toBe(-1);
    expect(versionBelow(v('2.6'), 2, 7)).toBe(true);
    expect(versionAbove(v('2.8'), 2, 7)).toBe(true);
    expect(versionAbove(v('2.7'), 2, 7)).toBe(false);
  });
});

describe('negotiation (§5.2)', () => {
  it('current apps (2.4–2.9) get 2.8', () => {
    expect(negotiateVersion(v('2.4'), v('2.9'))).toEqual({ major: 2, minor: 8 });
    expect(negotiateVersion(v('2.5'), v('2.8'))).toEqual({ major: 2, minor: 8 });
  });

  it('by default only 2.8 is served', () => {
    expectProtocolError(() => negotiateVersion(v('2.4'), v('2.7')), 'PROTOCOL_VERSION');
    expectProtocolError(() => negotiateVersion(v('2.9'), v('3.0')), 'PROTOCOL_VERSION');
    expectProtocolError(() => negotiateVersion(v('2.8'), v('2.7')), 'PROTOCOL_VERSION');
  });

  it('with the insecure flag older apps get their maximum', () => {
    expect(negotiateVersion(v('2.4'), v('2.7'), { acceptInsecure: true })).toEqual({ major: 2, minor: 7 });
    expect(negotiateVersion(v('2.4'), v('2.4'), { acceptInsecure: true, legacyCompatible: true })).toEqual({ major: 2, minor: 4 });
    // the reference decides legacy compatibility only after negotiating: 2.5 is the floor
    expectProtocolError(() => negotiateVersion(v('2.4'), v('2.4'), { acceptInsecure: true }), 'PROTOCOL_VERSION');
  });

  it('revocation needs 2.6, chaining 2.7', () => {
    expect(serverMinVersion({ acceptInsecure: true, revocation: true })).toEqual({ major: 2, minor: 6 });
    expect(serverMinVersion({ acceptInsecure: true, revocation: true, chained: true })).toEqual({ major: 2, minor: 7 });
    expect(serverMinVersion({ chained: true })).toEqual({ major: 2, minor: 8 });
    expectProtocolError(() => negotiateVersion(v('2.5'), v('2.6'), { acceptInsecure: true, chained: true }), 'PROTOCOL_VERSION');
  });
});
