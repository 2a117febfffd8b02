// Signed results (spec §3.4): /result-jwt (also the body of signed callbacks and next-session
// POSTs), /getproof, and the server's public key.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { proofJwtClaims, resultJwtClaims } from '../protocol/results.js';
import type { Session } from '../session/session.js';
import { loadJose } from './jose.js';
import { toSessionResult } from './result.js';

export class ResultSigner {
  readonly #key: KeyObject;
  readonly publicKeyPem: string;

  /** `pem`: the RSA private key (jwt_privkey); `issuer`: jwt_issuer ('' leaves `iss` out). */
  constructor(pem: string, readonly issuer: string) {
    this.#key = createPrivateKey(pem);
    this.publicKeyPem = createPublicKey(this.#key).export({ type: 'spki', format: 'pem' }).toString();
  }

  async #sign(claims: Record<string, unknown>): Promise<string> {
    const { SignJWT } = await loadJose();
    return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(this.#key);
  }

  async resultJwt(session: Session, nowMs: number): Promise<string> {
    const opts = { issuer: this.issuer, now: Math.floor(nowMs / 1000), validity: session.validity || 120 };
    return this.#sign(resultJwtClaims(toSessionResult(session), opts));
  }

  async proofJwt(session: Session, nowMs: number): Promise<string> {
    const opts = { issuer: this.issuer, now: Math.floor(nowMs / 1000), validity: session.validity };
    return this.#sign(proofJwtClaims(toSessionResult(session), opts));
  }
}
