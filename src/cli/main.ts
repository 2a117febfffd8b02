// Entry point of the `irma-server` command (bin/irma-server.js and `npm start` run its compiled form, dist/cli/main.js).
// First: it changes how V8 compiles what the other imports load.
import './v8-tuning.js';
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), process.env);
