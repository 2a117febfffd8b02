// The published gabi and irmago test vectors (§11 of the spec), verified by our code.
import { describe, expect, it } from 'vitest';
import { decodeAttribute, encodeAttribute } from '../../src/idemix/attributes.js';
import { IdemixError } from '../../src/idemix/errors.js';
import { credentialTypeHashHex, parseMetadata } from '../../src/idemix/metadata.js';
import { verifyProofList } from '../../src/idemix/proof-list.js';
import { parseProofD, type CLSignature, type ProofD, type ProofS, type ProofU } from '../../src/idemix/proofs.js';
import { verifyProofS } from '../../src/idemix/prover.js';
import { parseSignedMessage, verifySignedMessage } from '../../src/idemix/signed-message.js';
import { proofMetadata, verifyDisclosureProofs } from '../../src/idemix/verifier.js';
import { attributeCount, publicKey } from './proof-fixtures.js';

// gabi's testPubK equals the first six bases of irma-demo.RU key 2.
const ru2 = () => publicKey('irma-demo.RU', 2);

describe('gabi TestProofULogged', () => {
  const context = 34911926065354700717429826907189165808787187263593066036316982805908526740809n;
  const nonce1 = 724811585564063105609243n;
  const proof: ProofU = {
    kind: 'ProofU',
    c: 4184045431748299802782143929438273256345760339041229271411466459902660986200n,
    U: 53941714038323323772993715692602421894514053229231925255570480167011458936488064431963770862062871590815370913733046166911453850329862473697478794938988248741580237664467927006089054091941563143176094050444799012171081539721321786755307076274602717003792794453593019124224828904640592766190733869209960398955n,
    vPrimeResponse: 930401833442556048954810956066821001094106683380918922610147216724718347679854246682690061274042716015957693675615113399347898060611144526167949042936228868420203309360695585386210327439216083389841383395698722832808268885873389302262079691644125050748391319832394519920382663304621540520277648619992590872190274152359156399474623649137315708728792245711389032617438368799004840694779408839779419604877135070624376537994035936n,
    sResponse: 59776396667523329313292302350278517468587673934875085337674938789292900859071752886820910103285722288747559744087880906618151651690169988337871960870439882357345503256963847251n,
    mUserResponses: new Map(),
  };
  it('verifies', () => {
    expect(verifyProofList([{ proof, publicKey: ru2() }], context, nonce1, false)).toBe(proof.c);
  });
  it('fails with another nonce or a changed response', () => {
    expect(() => verifyProofList([{ proof, publicKey: ru2() }], context, nonce1 + 1n, false)).toThrow(IdemixError);
    const bad = { ...proof, sResponse: proof.sResponse + 1n };
    expect(() => verifyProofList([{ proof: bad, publicKey: ru2() }], context, nonce1, false)).toThrow(/challenge/);
  });
});

describe('gabi TestProofSLogged', () => {
  const context = 34911926065354700717429826907189165808787187263593066036316982805908526740809n;
  const n2 = 1424916368173409716606n;
  // (A, e, v) alone: v lacks the holder's v', so only the ProofS over A and e can be checked.
  const signature: CLSignature = {
    A: 66389313221915836241271893803869162372470096003861448260498566798077037255866372791540928160267561756794143545532118654736979223658343806335872047371607436291528588343320128898584874264796312130159695427439025355009934986408160536404163490935544221152821545871675088845781351195696518382628790514628112517886n,
    e: 259344723055062059907025491480697571938277889515152306249728583105665800713306759149981690559193987143012367913206299323899696942213235956742930207251663943512715842083759814664217n,
    v: 32427566863312925183262683355749521096160753564085736927716798279834745436154181827687524960554513739692930154573915901486008843583586162755818099731448281905764117842382407835789897633042765641230655956290191876265377547222981221260311549695231999461733778383779100992221748503727598149536948999564401095816377323412637286891625085960745712119714441272446053177642615033258689648568679017384011895908901362352242970432640019866501367925956123252426587516554347912178721773507440862343752105273189184247444400383n,
    keyshareP: null,
  };
  const proof: ProofS = {
    c: 60359393410007276721785600209946099643760005142374188599509762410975853354415n,
    eResponse: 1139627737042307991725447845798004742853435356249558932466535799661640630812910641126155269500348608443317861800376689024557774460643901450316279085276256524076388421890909312661873221470626068394945683125859434135652717426417681918932528613003921792075852313319584079881881807505760375270399908999784672094n,
  };
  it('verifies', () => {
    expect(verifyProofS(ru2(), proof, signature, context, n2)).toBe(true);
  });
  it('fails with another n_2, context, A or response', () => {
    expect(verifyProofS(ru2(), proof, signature, context, n2 + 1n)).toBe(false);
    expect(verifyProofS(ru2(), proof, signature, context + 1n, n2)).toBe(false);
    expect(verifyProofS(ru2(), proof, { ...signature, A: signature.A + 1n }, context, n2)).toBe(false);
    expect(verifyProofS(ru2(), { ...proof, eResponse: proof.eResponse + 1n }, signature, context, n2)).toBe(false);
  });
});

describe('gabi TestShowingProofLogged (legacy raw attributes)', () => {
  const nonce1 = 356168310758183945030882n;
  const context = 59317469690166962413036802769129097120995929488116634148207386064523180296869n;
  const make = (disclosed1: bigint): ProofD => ({
    kind: 'ProofD',
    c: 92405256824458923934294175762399873039847432841647909261385804859937404075570n,
    A: 66467922530801909191099602528137141713616048447732479189179865050384832390931230033112445547628606292639430708552418462959456337530534055700746138057512598497120682196611341962749384189596253759402224308748002860890211498962735924481685975488607793795169788837476493253297353146422154392391732925567178805607n,
    eResponse: 44022597110989879399510333540268555303613344906583879371531630680320900347240418258690335759375210734514869637566864349585531295946323809n,
    vResponse: 26326301830460880582628741955953428491879823201714737915103888193625032953131902593859116395461541557845953939714765660366793552012359281854190756504190064959818584175057775414324351414234450208391534497565506441579960808534266557458251190151268682500197950418141493586125049371381626638554299245282498637246703583102656876690825544275995631773170789236920674341621008537679924624747222821679128060382072191284077393034573357698475000667180794116538132628586533009732462826119381931507809052573496513689222244701991737191273263148163121236326525677935993049602389899306007664212328515456044738278420n,
    aResponses: new Map([
      [0, 55247823867049193571627241180110605447453053126985891402640532123848293918217459966028364637387399903283634100097425890971508590427350301193682412170041146212137866279677802531n],
    ]),
    aDisclosed: new Map([
      [1, disclosed1],
      [2, 43098508374675488371040117572049064979183030441504364n],
      [3, 4919409929397552454n],
    ]),
  });
  it('verifies with sig=false and discloses the raw values', () => {
    const [res] = verifyDisclosureProofs({ proofs: [make(1100598411265n)], publicKeys: [ru2()], context, nonce: nonce1 });
    expect(decodeAttribute(res.disclosed.get(2)!, 2)).toBe('s1234567@student.ru.nl');
    expect(decodeAttribute(res.disclosed.get(3)!, 2)).toBe('DEADBEEF');
  });
  it('fails when a disclosed value changes or sig=true', () => {
    expect(() => verifyDisclosureProofs({ proofs: [make(123n)], publicKeys: [ru2()], context, nonce: nonce1 })).toThrow(
      /challenge/,
    );
    expect(() =>
      verifyDisclosureProofs({ proofs: [make(1100598411265n)], publicKeys: [ru2()], context, nonce: nonce1, sig: true }),
    ).toThrow(/challenge/);
  });
});

describe('irmago TestVerify (parseDisclosure)', () => {
  const proofJson = {
    c: 'o21UPItMKWXmXNhBKsCBHDWjfRoy+uDdbDB1yhhpg3k=',
    A: 'Bl68Ut2nu2nwhIweU9QGoNd6TkjUIRbQ6SDg22m8PzMEgca0KA4/Oy1gaJCUHM3FFJ0Gdj0+6/VpcF85JyuQZou93UXXwzN/Y7ohUw+YxVTQ7WcJmZ/VGDh3SME5KJ9aWjGmq61J2LQiiDSq+XrcWFfKPwad6BkDhV2reo4yo68=',
    e_response: 'VD0pWdeDkd3V+R3734xyRcGeWMMTzpB0ZiJhKMzv37DmHN6RpRzTF/0HroAsMIMz8mBWxYPVRBiw',
    v_response:
      '3OWsmIDM7v0ByEXax2YZGp3BnJ5nkCLMcT6/ENU0EcpjrOz+rT+NayQSLgMshxAATpgkgAluFQ3owOoQEL8ZAkZTWUDW5j+qy7GDFd22ZOKEZLWf8Q1XRK3x6exV9CIMkcBQrv5W6EI9XB5OKKNB3Z/VTALY3UW8cQQ0DPHj83YBEL3LJQDxwaxvQeHx4nysJjsEoLJE1KPBynXlfxpk17O3HTg+NuX5gj7+ckiHrmXgthJHvqCTnNpEORtXDJTmKJUccUiyWuftA36cIXIxW4N6I88T4BYctwN+T9NY+hcjYESITtxB+r2elB98bzlWgHF8ohpOkkJGuNjTFjw=',
    a_responses: {
      '0': 'eDQA3Lrh2WC3o/VP6KD/uaMSRy/em3gEfuqXD9tVT+yJFYb7GT91lle5dB6lg235pUSHzYIOET7FYOHwb4/YSAGQiix0IzqFkLo=',
      '2': 'kT3kfcIaPy3UBYPX78X10w/R1Cb5rHqoW5OUd06xqC1V9MqVw3zhtc/nBgWmvVwTgJrl2CyuBjjoF10RJz/FEjYZ0JAF57uUXW8=',
      '3': '4oSBcyUT6mOBhk/Szk/5G5QrgaAADW6wSl91hGwTTNDTIUiK01GE11JozbwDeZsLPoFikzikwkPu9ZsOAtOtb/+IcadB6NP0KXA=',
      '5': 'OwUSSCBb9NOMOYYSGSYCrdFUNLKJ/b2YP5LlElFG5r4GPR71zTQsZ4QuJiMIt9iFPRP6PQUvMvjWA59UTQ9AlwKc9JcQzbScYBM=',
    },
    a_disclosed: { '1': 'AwAKOQIBAALWy2qU9p3l52l9LU1rVT4M', '4': 'aGpt' },
  };
  const context = 1n;
  const nonce = BigInt('0x' + Buffer.from('zVQJMG6TKZwfcv5TExFVSQ==', 'base64').toString('hex'));

  it('verifies and discloses "456" for RU.studentCard with key 2', () => {
    const proof = parseProofD(proofJson);
    const meta = proofMetadata(proof);
    expect(meta.version).toBe(3);
    expect(meta.keyCounter).toBe(2);
    expect(meta.credentialTypeHashHex).toBe(credentialTypeHashHex('irma-demo.RU.studentCard'));
    const [res] = verifyDisclosureProofs({ proofs: [proof], publicKeys: [publicKey('irma-demo.RU', meta.keyCounter)], context, nonce });
    expect(decodeAttribute(res.disclosed.get(4)!)).toBe('456');
  });
  it('rejects a_responses[0] = 100 and another nonce', () => {
    const bad = parseProofD({ ...proofJson, a_responses: { ...proofJson.a_responses, '0': 'ZA==' } });
    expect(() => verifyDisclosureProofs({ proofs: [bad], publicKeys: [ru2()], context, nonce })).toThrow(IdemixError);
    const good = parseProofD(proofJson);
    expect(() => verifyDisclosureProofs({ proofs: [good], publicKeys: [ru2()], context, nonce: 100n })).toThrow(IdemixError);
  });
});

describe('irmago TestVerifyValidSig (v1 SignedMessage with timestamp, metadata v2)', () => {
  const json = {
    signature: [
      {
        c: 'pliyrSE7wXcDcKXuBtZW5bnucvBSXpILIRvnNBgx7hQ=',
        A: 'D/8wLPq9860bpXZ5c+VYyoPJ+Z8CWDZNQ0jXvst8qnPRdivy/GQIfJHjVnpOPlHbguphb/7JVbfcV3bZeybA3bCF/4UesjRUZlMf/iJ/QgKHbt41ogN1PPT5z7qBJpkxuNTIkHxaUPoDvhouHmuC9pNj4afRUyLJerxKPkpdBw0=',
        e_response: 'YOrKTrMSs4/QOUtPkT0YaYNEmW7Cs+cu624zr2xrHodyL88ub6yaXB7MGHAcQ1+iXsGN8jkfxB/0',
        v_response:
          'AYSa1p8ISs//MsocJjODwWuPB/z6+iKHHi+sTToRs0eJ2X1gwmWoA5QB0aHjRkWye3/+2rtosfUzI77FlPQVnrbMERwcuYM/fx3fpNCpjm2qcs3AOJRcSRxcNFMe1+4ECsmJhByMDutS1KXAAKiNvnhEXx9f0JrQGwQFtpSFPh8dOuvEKUZHAUALr4FcHCa2HL9nDRiqy2KAOxE0nAANAcMaBo/ed+WZeHtv4CTB7egyYs27cklVbwlBzmRrbjNZk57ICd0jVd6SZ2Ir93r/aPejkyhQ03xh9RVVyhOn4bkbjKIBzEybXTJAXgNmvd6F8Ds00srBZVWlo7Z23JZ7',
        a_responses: {
          '0': 'QHTznWWrECRNNmUNcy0yGu2L6qsZU6qkvaII8QB8QjbUxpwHzSeJWkzrn/Kk1KIowfoqB1DKGaFLATvuBl+bCoJjea+2VfK9Ns8=',
          '2': 'H57Y9CTXJ5MAVo+aFfNSbmRMFQpraBIZVOXiRxCD/P7Aw4fW8r9P5l9pO9DTUeExaqFzsLyF5i5EridVWxlP2Wv0zbH8ku9Sg9w=',
          '3': 'joggAmOhqM4QsKdoLHAfaslzXqJswS7MwZ/5+AKYdkMaHQ45biMdZU/6R+B7bjvsumg2f6KyTyg0G+BI+wVdJOjh3kGezdANB7Y=',
          '5': '5YP4A82WWeqc33e5Zg/Q8lqQQ1amLE8mOxMwCXb3N4J0UJRfV9lUFvbH1Q3Yb3YHAZpzGvhN/pBacwqktMkP4L71PnMldqA+nqA=',
        },
        a_disclosed: { '1': 'AgAJuwB+AALWy2qU9p3l52l9LU1rVT4M', '4': 'NDU2' },
      },
    ],
    nonce: 'Kg==',
    context: 'BTk=',
    message: 'I owe you everything',
    timestamp: {
      Time: 1527196489,
      ServerUrl: 'https://metrics.privacybydesign.foundation/atum',
      Sig: {
        Alg: 'ed25519',
        Data: 'ZV1qkvDrFK14QrUSC66xTNr9HitCOV4vwfGX0bh3iwY7qyHCi9rIOE97KY8CZifU5oLgVhFWy5E+ALR+gEpACw==',
        PublicKey: 'e/nMAJF7nwrvNZRpuJljNpRx+CsT7caaXyn9OX683R8=',
      },
    },
  };
  const verify = (j: unknown) => {
    const signed = parseSignedMessage(j);
    return verifySignedMessage({
      signed,
      publicKeys: [ru2()],
      attributeCounts: [attributeCount('irma-demo.RU.studentCard')],
    });
  };

  it('verifies, timestamp included, and discloses "456" (v2 encoding, metadata v2)', () => {
    const res = verify(json);
    expect(res.timestamp?.time).toBe(1527196489);
    expect(res.credentials[0].metadata.version).toBe(2);
    expect(decodeAttribute(res.credentials[0].disclosed.get(4)!, 2)).toBe('456');
  });
  it('rejects a modified c, nonce, message or timestamp', () => {
    const c = structuredClone(json);
    c.signature[0].c = 'blablaE7wXcDcKXuBtZW5bnucvBSXpILIRvnNBgx7hQ=';
    expect(() => verify(c)).toThrow(IdemixError);
    expect(() => verify({ ...json, nonce: 'aa==' })).toThrow(IdemixError);
    expect(() => verify({ ...json, message: 'I owe you nothing' })).toThrow(/timestamp/);
    expect(() => verify({ ...json, timestamp: { ...json.timestamp, Time: 1527196490 } })).toThrow(/timestamp/);
    expect(() => verify({ ...json, timestamp: null })).toThrow(/challenge/);
  });
});

describe('irmago TestMetadataCompatibility and TestAttributeDecoding', () => {
  it('parses the legacy metadata attribute', () => {
    const m = parseMetadata(49043481832371145193140299771658227036446546573739245068n);
    expect(m).toEqual({
      version: 2,
      signingDate: 1499904000,
      validityWeeks: 27,
      expiry: 1516233600,
      keyCounter: 2,
      credentialTypeHashHex: credentialTypeHashHex('irma-demo.RU.studentCard'),
    });
    expect(m.credentialTypeHashHex).toBe('d6cb6a94f69de5e7697d2d4d6b553e0c');
  });
  it('decodes "male" in both encodings', () => {
    expect(decodeAttribute(3670202571n, 3)).toBe('male');
    expect(decodeAttribute(1835101285n, 2)).toBe('male');
    expect(encodeAttribute('male', 3)).toBe(3670202571n);
    expect(encodeAttribute('male', 2)).toBe(1835101285n);
  });
});
