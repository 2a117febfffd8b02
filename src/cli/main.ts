// Entry point of the `irma-server` command (bin/irma-server.js, `npm start`).
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), process.env);
