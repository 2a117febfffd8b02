// Keeps the schemes current (schemes_update, minutes): checks every scheme folder against its URL,
// installs a newer signed version, and swaps the reloaded registry into the running server. A
// failed or tampered update is logged and leaves both the folder and the running registry as
// they were.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { updateScheme, type RemoteOptions, type UpdateResult } from '../scheme/scheme-remote.js';

export interface UpdaterLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface SchemeUpdaterOptions {
  schemesPath: string;
  intervalMinutes: number;
  /** Swaps the schemes on disk into the running server. */
  reload(): Promise<void>;
  log: UpdaterLogger;
  /** Scheme ids that have no remote to update from (the generated demo scheme). */
  skip?: ReadonlySet<string>;
  remote?: RemoteOptions;
}

/** The reference runs its first check shortly after startup rather than one interval later. */
const FIRST_RUN_DELAY_MS = 200;

export class SchemeUpdater {
  private timer?: NodeJS.Timeout;
  private running?: Promise<UpdateResult[]>;

  constructor(private readonly opts: SchemeUpdaterOptions) {}

  start(): void {
    const tick = () => void this.runOnce();
    this.timer = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, this.opts.intervalMinutes * 60_000).unref();
    }, FIRST_RUN_DELAY_MS).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One round over every scheme; never throws. Overlapping calls share the round in progress. */
  runOnce(): Promise<UpdateResult[]> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<UpdateResult[]> {
    const { log } = this.opts;
    const updated: UpdateResult[] = [];
    for (const dir of await this.schemeFolders()) {
      try {
        const r = await updateScheme(dir, { ...this.opts.remote, warn: (msg) => log.info({ dir }, msg) });
        if (r.updated) {
          log.info({ scheme: r.id, from: r.from, to: r.to }, 'scheme updated');
          updated.push(r);
        }
      } catch (e) {
        log.error({ dir, err: (e as Error).message }, 'scheme update failed; keeping the current version');
      }
    }
    if (updated.length > 0) {
      try {
        await this.opts.reload();
        log.info({ schemes: updated.map((r) => r.id) }, 'updated schemes in use');
      } catch (e) {
        log.error({ err: (e as Error).message }, 'updated schemes could not be loaded; the server keeps the schemes it had');
      }
    }
    return updated;
  }

  private async schemeFolders(): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.opts.schemesPath)).sort();
    } catch (e) {
      this.opts.log.error({ err: (e as Error).message }, 'cannot list the schemes to update');
      return [];
    }
    const dirs: string[] = [];
    for (const name of names) {
      if (name.startsWith('.') || this.opts.skip?.has(name)) continue;
      const dir = join(this.opts.schemesPath, name);
      const described = await Promise.any(
        ['description.xml', 'description.json'].map((f) => stat(join(dir, f)).then((s) => s.isFile() || Promise.reject())),
      ).catch(() => false);
      if (described) dirs.push(dir);
    }
    return dirs;
  }
}
