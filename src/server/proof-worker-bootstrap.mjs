// Worker threads do not inherit the TypeScript loader that runs the server from source (tsx, or
// vitest's own transform), so this plain-JS entry registers tsx before loading the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./proof-worker.ts');
