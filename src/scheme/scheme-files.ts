// Reads the files of one scheme folder, checking each against the signed index when signatures
// are required, so that no unsigned byte reaches the parsers.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SchemeError } from './errors.js';
import { parseSchemeIndex, verifySchemeIndex, type SchemeIndex } from './scheme-index.js';

const READ_BATCH = 64;

async function readRaw(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new SchemeError('IO', path, `cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      cause: e,
    });
  }
}

export class SchemeFiles {
  private readonly verified = new Set<string>();

  private constructor(
    readonly dir: string,
    readonly schemeId: string,
    private readonly index: SchemeIndex | undefined,
  ) {}

  /** With `requireSignatures`, verifies index.sig with pk.pem before any other file is read. */
  static async open(dir: string, schemeId: string, requireSignatures: boolean): Promise<SchemeFiles> {
    if (!requireSignatures) return new SchemeFiles(dir, schemeId, undefined);
    const [index, sig, pk] = await Promise.all(['index', 'index.sig', 'pk.pem'].map((f) => readRaw(join(dir, f))));
    verifySchemeIndex(dir, index, sig, pk);
    return new SchemeFiles(dir, schemeId, parseSchemeIndex(index, schemeId, join(dir, 'index')));
  }

  get signed(): boolean {
    return this.index !== undefined;
  }

  path(rel: string): string {
    return join(this.dir, ...rel.split('/'));
  }

  /** Reads `rel` (forward slashes, relative to the scheme folder); signed schemes check its hash. */
  async read(rel: string): Promise<Buffer> {
    const path = this.path(rel);
    if (this.index && !this.index.has(rel)) {
      throw new SchemeError('INVALID_SIGNATURE', path, 'file is not listed in the signed scheme index');
    }
    const bytes = await readRaw(path);
    if (this.index) {
      const digest = createHash('sha256').update(bytes).digest();
      if (!digest.equals(this.index.get(rel)!)) {
        throw new SchemeError('INVALID_SIGNATURE', path, 'file does not match its hash in the signed scheme index');
      }
      this.verified.add(rel);
    }
    return bytes;
  }

  async readText(rel: string): Promise<string> {
    return (await this.read(rel)).toString('utf8');
  }

  /** Every indexed file must exist and match, also those the loader never parses (logos, kss keys). */
  async verifyRemaining(): Promise<void> {
    if (!this.index) return;
    const rest = [...this.index.keys()].filter((rel) => !this.verified.has(rel));
    // In batches: a production scheme indexes hundreds of files, more than a low open-file limit allows at once.
    for (let i = 0; i < rest.length; i += READ_BATCH) {
      await Promise.all(rest.slice(i, i + READ_BATCH).map((rel) => this.read(rel)));
    }
  }
}
