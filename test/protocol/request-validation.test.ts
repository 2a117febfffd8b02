import { beforeAll, describe, expect, it } from 'vitest';
import { LD_CONTEXT, type IssuanceRequest, type RequestorRequest } from '../../src/protocol/requests.js';
import { parseRequestorRequest } from '../../src/protocol/request-body.js';
import { addMonths, validateRequestorRequest, type RequestValidationOptions } from '../../src/protocol/request-validation.js';
import type { SchemeRegistry } from '../../src/scheme/types.js';
import { deepFreeze } from '../../src/protocol/deep-freeze.js';
import { RECORDED_AT, connectCall, expectProtocolError, referenceSchemes, vectors, withOverrides } from './fixtures.js';

let schemes: SchemeRegistry;
beforeAll(async () => {
  schemes = await referenceSchemes();
});

const NOW = RECORDED_AT;
const opts: RequestValidationOptions = { now: NOW };
const FULLNAME = 'irma-demo.MijnOverheid.fullName';
const fullName = { firstnames: 'A B', firstname: 'A', familyname: 'C' };

const parse = (request: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseRequestorRequest({ ...extra, request });
const disclosure = (disclose: unknown, extra: Record<string, unknown> = {}) =>
  parse({ '@context': LD_CONTEXT.disclosing, disclose, ...extra });
const issuance = (credentials: unknown[], extra: Record<string, unknown> = {}) =>
  parse({ '@context': LD_CONTEXT.issuing, credentials, ...extra });
const validate = (rr: RequestorRequest, o: Partial<RequestValidationOptions> = {}, s = schemes) =>
  validateRequestorRequest(rr, s, { ...opts, ...o });
const credentialsOf = (rr: RequestorRequest) => (rr.request as IssuanceRequest).credentials;

describe('recorded requests', () => {
  for (const s of vectors.sessions) {
    it(`${s.label}: validates and fills what the reference filled`, () => {
      const sent = (connectCall(s).responseBody as { request: { credentials?: { validity: number }[] } }).request;
      // The reference computed validity from its own clock a few seconds after recordedAt.
      const now = sent.credentials ? sent.credentials[0].validity - (addMonths(NOW, 6) - NOW) : NOW;
      const rr = validate(parseRequestorRequest(s.requestorRequest), { now });
      if (!sent.credentials) return expect(rr.request).toEqual(parseRequestorRequest(s.requestorRequest).request);
      credentialsOf(rr).forEach((c, i) => {
        const { randomblindIDs, ...rest } = c;
        expect(rest).toEqual(sent.credentials![i]);
        // The recording predates randomblindIDs; current apps check it, so we fill it.
        expect(randomblindIDs).toEqual(c.credential === 'irma-demo.stemmen.stempas' ? ['votingnumber'] : undefined);
      });
    });
  }

  it('does not modify its input', () => {
    const rr = issuance([{ credential: FULLNAME, attributes: fullName }]);
    const copy = structuredClone(rr);
    validate(rr);
    expect(rr).toEqual(copy);
  });
});

describe('unknown identifiers', () => {
  it('unknown scheme is reported alone', () => {
    expectProtocolError(() => validate(disclosure([[['nope.X.y.z', 'irma-demo.Nope.y.z']]])), 'INVALID_REQUEST', 'Unknown identifiers: nope');
  });

  it('unknown issuer, credential type and attribute type', () => {
    expectProtocolError(
      () => validate(disclosure([[['irma-demo.Nope.y.z']], [['irma-demo.MijnOverheid.fullName.shoesize']], [['irma-demo.MijnOverheid.nope']]])),
      'INVALID_REQUEST',
      'Unknown identifiers: irma-demo.Nope, irma-demo.Nope.y, irma-demo.MijnOverheid.nope, irma-demo.MijnOverheid.fullName.shoesize',
    );
  });

  it('a known credential requested by its 3-part id is fine', () => {
    expect(() => validate(disclosure([[['irma-demo.MijnOverheid.fullName']]]))).not.toThrow();
  });

  it('issuance of unknown attributes, and of an unknown key counter', () => {
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: { ...fullName, shoesize: '44' } }])),
      'INVALID_REQUEST',
      'Unknown identifiers: irma-demo.MijnOverheid.fullName.shoesize',
    );
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: fullName, keyCounter: 9 }])),
      'INVALID_REQUEST',
      'Unknown identifiers: irma-demo.MijnOverheid-9',
    );
  });

  it('issuance without a required attribute', () => {
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: { firstname: 'A' } }])),
      'INVALID_REQUEST',
      'Required attributes are missing: irma-demo.MijnOverheid.fullName.firstnames, irma-demo.MijnOverheid.fullName.familyname',
    );
  });
});

describe('scheme-dependent rules', () => {
  it('at most one non-singleton credential type per inner conjunction', () => {
    expectProtocolError(
      () => validate(disclosure([[['irma-demo.MijnOverheid.fullName.firstname', 'irma-demo.RU.studentCard.university']]])),
      'INVALID_REQUEST',
      'Multiple non-singletons within one inner conjunction are not allowed',
    );
    expect(() =>
      validate(disclosure([[['irma-demo.MijnOverheid.fullName.firstname', 'irma-demo.MijnOverheid.singleton.BSN']]])),
    ).not.toThrow();
  });

  it('revocation parameters need a credential type with revocation', () => {
    expectProtocolError(
      () => validate(disclosure([[['irma-demo.MijnOverheid.fullName.firstname']]], { revocation: ['irma-demo.MijnOverheid.fullName'] })),
      'INVALID_REQUEST',
      'cannot request nonrevocation proof for irma-demo.MijnOverheid.fullName: revocation not enabled in scheme',
    );
    expectProtocolError(
      () => validate(disclosure([[['irma-demo.MijnOverheid.fullName.firstname']]], { revocation: ['irma-demo.X.y'] })),
      'INVALID_REQUEST',
      'cannot requet nonrevocation proof for irma-demo.X.y: unknown credential type',
    );
    expect(() => validate(disclosure([[['test.test.revocable.email']]], { revocation: ['test.test.revocable'] }))).not.toThrow();
  });

  it('augmentReturnUrl needs the server option and a URL', () => {
    const rr = disclosure([[['irma-demo.MijnOverheid.fullName.firstname']]], { augmentReturnUrl: true, clientReturnUrl: 'https://x/' });
    expectProtocolError(() => validate(rr), 'INVALID_REQUEST', 'augmenting client return url not enabled in server configuration');
    expect(() => validate(rr, { augmentClientReturnUrl: true })).not.toThrow();
    const noUrl = disclosure([[['irma-demo.MijnOverheid.fullName.firstname']]], { augmentReturnUrl: true });
    expectProtocolError(() => validate(noUrl, { augmentClientReturnUrl: true }), 'INVALID_REQUEST', 'cannot augment empty client return url');
  });
});

describe('issuance', () => {
  it('fills keyCounter from the newest private key and validity now + 6 months', () => {
    const [c] = credentialsOf(validate(issuance([{ credential: FULLNAME, attributes: fullName, keyCounter: 0 }])));
    expect(c.keyCounter).toBe(2);
    expect(c.validity).toBe(addMonths(NOW, 6));
    expect(new Date(c.validity! * 1000).toISOString()).toBe('2027-05-22T08:14:00.000Z');
  });

  it('calendar months overflow like Go (Aug 31 + 6 months = Mar 3)', () => {
    expect(new Date(addMonths(Date.UTC(2026, 7, 31) / 1000, 6) * 1000).toISOString()).toBe('2027-03-03T00:00:00.000Z');
  });

  it('keeps an explicit validity, refuses one in the past', () => {
    expect(credentialsOf(validate(issuance([{ credential: FULLNAME, attributes: fullName, validity: NOW + 10 }])))[0].validity).toBe(NOW + 10);
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: fullName, validity: NOW - 1 }])),
      'INVALID_REQUEST',
      'cannot issue expired credentials',
    );
  });

  it('random-blind attributes are named for the app and cannot be set', () => {
    const [c] = credentialsOf(validate(issuance([{ credential: 'irma-demo.stemmen.stempas', attributes: { election: 'x' } }])));
    expect(c.randomblindIDs).toEqual(['votingnumber']);
    expect(c.keyCounter).toBeUndefined();
    expectProtocolError(
      () => validate(issuance([{ credential: 'irma-demo.stemmen.stempas', attributes: { election: 'x', votingnumber: '1' } }])),
      'INVALID_REQUEST',
      'randomblind attribute cannot be set in credential request',
    );
  });

  it('requestor-supplied randomblindIDs are replaced', () => {
    const [c] = credentialsOf(validate(issuance([{ credential: FULLNAME, attributes: fullName, randomblindIDs: ['x'] }])));
    expect(c.randomblindIDs).toBeUndefined();
  });

  it('needs a private key', () => {
    expectProtocolError(
      () => validate(issuance([{ credential: 'test.test.email', attributes: { email: 'a@b' } }])),
      'INVALID_REQUEST',
      'missing private key of issuer test.test',
    );
  });

  it('refuses an expired issuer key', () => {
    const pk = schemes.publicKey('irma-demo.MijnOverheid', 2)!;
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: fullName }]), { now: pk.expiryDate + 1 }),
      'INVALID_REQUEST',
      'cannot issue using expired public key irma-demo.MijnOverheid-2',
    );
  });

  it('needs the public key matching the newest private key', () => {
    const s = withOverrides(schemes, {
      publicKey: (issuer: string, counter: number) => (counter === 2 ? undefined : schemes.publicKey(issuer, counter)),
    });
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: fullName }]), {}, s),
      'INVALID_REQUEST',
      'missing public key of issuer irma-demo.MijnOverheid',
    );
  });

  it('revocation needs a configured revocation server and a revocation key', () => {
    const sk = schemes.latestPrivateKey('irma-demo.MijnOverheid')!;
    const s = withOverrides(schemes, { latestPrivateKey: () => sk, publicKey: () => schemes.publicKey('irma-demo.MijnOverheid', 2) });
    const rr = issuance([{ credential: 'test.test.revocable', attributes: { email: 'a@b' } }]);
    expectProtocolError(() => validate(rr, {}, s), 'INVALID_REQUEST', 'revocation enabled for test.test.revocable but no revocation server configured');
    expectProtocolError(
      () => validate(rr, { revocationServerConfigured: () => true }, s),
      'INVALID_REQUEST',
      'revocation enabled for test.test.revocable but no revocationKey specified',
    );
    const ok = issuance([{ credential: 'test.test.revocable', attributes: { email: 'a@b' }, revocationKey: 'k' }]);
    expect(credentialsOf(validate(ok, { revocationServerConfigured: () => true }, s))[0].revocationKey).toBe('k');
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: fullName, revocationKey: 'k' }])),
      'INVALID_REQUEST',
      `revocationKey specified for ${FULLNAME}, which does not support revocation`,
    );
  });

  it('SD-JWT batch size is capped at 200', () => {
    expectProtocolError(
      () => validate(issuance([{ credential: FULLNAME, attributes: fullName, sdJwtBatchSize: 201 }])),
      'INVALID_REQUEST',
      `requested number of sdjwts (201) is higher than maximum allowed amount (200) for ${FULLNAME}`,
    );
  });
});

describe('frozen requests (a body parsed once for many sessions)', () => {
  it('are checked once per registry and option, and issuance every time', () => {
    const rr = deepFreeze(disclosure([[['irma-demo.MijnOverheid.fullName.firstname']]], { augmentReturnUrl: true, clientReturnUrl: 'https://x/' }));
    const first = validate(rr, { augmentClientReturnUrl: true });
    expect(Object.isFrozen(first) && Object.isFrozen(first.request)).toBe(true);
    expect(validate(rr, { augmentClientReturnUrl: true })).toBe(first);
    // the server option is part of the answer
    expectProtocolError(() => validate(rr), 'INVALID_REQUEST', 'augmenting client return url not enabled in server configuration');
    // a scheme update brings a registry without the scheme: checked again, and refused
    const without: SchemeRegistry = Object.assign(Object.create(schemes) as SchemeRegistry, {
      scheme: (id: string) => (id === 'irma-demo' ? undefined : schemes.scheme(id)),
    });
    expectProtocolError(() => validate(rr, { augmentClientReturnUrl: true }, without), 'INVALID_REQUEST', 'Unknown identifiers: irma-demo');
    expect(validate(rr, { augmentClientReturnUrl: true })).toBe(first);

    const iss = deepFreeze(issuance([{ credential: FULLNAME, attributes: fullName }]));
    const a = validate(iss, { now: NOW });
    const b = validate(iss, { now: NOW + 86_400 });
    expect(credentialsOf(b)[0].validity).toBe(credentialsOf(a)[0].validity! + 86_400);
  });
});
