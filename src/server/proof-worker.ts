// The body of one crypto worker thread: loads the schemes named in workerData once, then answers
// check requests from the server thread with the same checker the server would run itself.
import { parentPort, workerData } from 'node:worker_threads';
import { trustProvenKeyPairs } from '../scheme/key-files.js';
import { loadSchemes } from '../scheme/loader.js';
import { parseClientJson } from '../protocol/client-json.js';
import type { JsonValue } from '../session/session.js';
import { createProofChecker } from './proof-checker.js';
import { startIdleTrim } from './idle-trim.js';
import { errorToWire, type CheckRequest, type WorkerMessage, type WorkerSetup } from './proof-worker-wire.js';

const port = parentPort;
if (!port) throw new Error('proof-worker must run in a worker thread');

const setup = workerData as WorkerSetup;
trustProvenKeyPairs(setup.provenKeyPairs ?? []);
const send = (m: WorkerMessage) => port.postMessage(m);
const checker = createProofChecker(await loadSchemes(setup.schemes), {
  logger: { warn: (details, msg) => send({ log: 'warn', details: details as Record<string, unknown>, msg }) },
});

port.on('message', (req: CheckRequest) => {
  const input = req.input;
  let checked: Promise<unknown>;
  try {
    // The server thread parsed the same text without error, so this parse succeeds too.
    if (input.messageText !== undefined) input.message = parseClientJson(input.messageText) as JsonValue;
    checked = checker[req.kind](input);
  } catch (err) {
    checked = Promise.reject(err);
  }
  checked.then(
    (result) => send({ id: req.id, ok: true, result }),
    (err: unknown) => send({ id: req.id, ok: false, error: errorToWire(err) }),
  );
});
send({ ready: true });
// Loading the schemes grew this thread's young generation as a burst of requests grows the main
// thread's; V8 gives it back only if a GC runs while the thread idles, so the same trim runs here.
startIdleTrim();
