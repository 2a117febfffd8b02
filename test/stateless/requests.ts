// Session requests and log markers the stateless tests share (reference irma-demo scheme).
export const FULLNAME = 'irma-demo.MijnOverheid.fullName';

/** What the server logs when a finishing write was committed but not acknowledged by replicas. */
export const UNACKNOWLEDGED = 'not acknowledged by enough Redis replicas';

/** Issuance of stemmen.stempas (2048-bit key, random-blind votingnumber). */
export const stempasIssuance = (election: string) => ({
  '@context': 'https://irma.app/ld/request/issuance/v2',
  credentials: [{ credential: 'irma-demo.stemmen.stempas', attributes: { election } }],
});

/** Disclosure of one attribute of fullName. */
export const fullNameDisclosure = (attribute: string) => ({
  '@context': 'https://irma.app/ld/request/disclosure/v2',
  disclose: [[[`${FULLNAME}.${attribute}`]]],
});
