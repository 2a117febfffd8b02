// Where the reference material lives: ../shared beside the checkout, in development and on CI.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REFERENCE_DIR = resolve(repoRoot, '..', 'shared', 'reference');
export const REFERENCE_SCHEMES = resolve(REFERENCE_DIR, 'irma_configuration');
export const REFERENCE_JWTKEYS = resolve(REFERENCE_DIR, 'jwtkeys');
export const REFERENCE_VECTORS = resolve(REFERENCE_DIR, 'vectors', 'sessions.json');
export const REPO_ROOT = repoRoot;
