// The headless IRMA client's public face, for tests, benchmarks and the CLI.
export {
  IrmaClient,
  MAX_PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  MIN_SIGNING_PROTOCOL_VERSION,
  type ChoiceContext,
  type IrmaClientOptions,
  type PermissionContext,
  type SessionHandlers,
  type SessionOutcome,
} from './client.js';
export { chooseDefault, disclosureCandidates, type AttributeChoice, type Candidates, type ConjunctionOption, type DisclosureChoice } from './candidates.js';
export { ClientError, type ClientErrorType, type RemoteError } from './errors.js';
export type { AttributeRequest, Condiscon, ProofStatus, Qr, SessionRequest, SessionType } from './messages.js';
export type { WalletCredential } from './wallet.js';
export type { StoredSdJwtVc } from './sdjwt-storage.js';
