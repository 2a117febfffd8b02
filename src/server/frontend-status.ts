// FrontendSessionStatus (spec §5.6): the status plus the chained session's pointer, if any.
import { frontendSessionStatus, type FrontendSessionStatus } from '../protocol/messages.js';
import type { SessionPointer } from '../protocol/session-start.js';
import type { Session } from '../session/session.js';

export function frontendStatus(session: Session): FrontendSessionStatus {
  return frontendSessionStatus(session.status, session.next as SessionPointer | undefined);
}
