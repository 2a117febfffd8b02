// One line for an error that stops the command: the message of the errors we expect (typed
// configuration, scheme and store errors), the name and message of anything else.
import { OptionsError } from '../server/options.js';

export function describeStartupError(e: unknown): string {
  if (e instanceof OptionsError) return e.message;
  if (e instanceof Error) return e.name === 'Error' ? e.message : `${e.name}: ${e.message}`;
  return String(e);
}
