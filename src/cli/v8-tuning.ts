// V8 settings for a long-running server, set before the rest of the program is evaluated.
//
// V8 optimises a function once it has run a budget of bytecode. At Node 20's default budget a
// fresh server spends 0.7–0.9 ms of compiler-thread CPU per disclosure session for its first few
// hundred sessions, compiling functions that then run a few hundred times. With twice the budget
// it compiles half as much, and the first sessions cost less in all (bench: the cold window's
// helper threads 0.37–0.40 instead of 0.70–0.80 ms), while the sessions after thousands cost the
// same: everything hot gets optimised a little later instead.
import { setFlagsFromString } from 'node:v8';

export const INTERRUPT_BUDGET = 135_168;

if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
