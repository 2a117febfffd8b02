// Fastify gives every request a child logger bound to its request id. Making a pino child costs
// ~2.5 µs, on every request, while most requests log nothing at the levels a server runs at; so
// each request gets this stand-in, which makes the child only when a line is actually written.
import type { FastifyBaseLogger } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogCall = (...args: unknown[]) => void;
/** pino's loggers have it; a logger without it is taken to write every level. */
type MaybeLeveled = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };

class LazyChildLogger {
  #child: MaybeLeveled | undefined;

  constructor(
    private readonly parent: MaybeLeveled,
    private readonly bindings: Record<string, unknown>,
    private readonly options: object,
  ) {}

  get level(): string {
    return (this.#child ?? this.parent).level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, options?: object): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    const logger = this.#child ?? this.parent;
    return logger.isLevelEnabled?.(level) ?? true;
  }

  #write(level: Level, args: unknown[]): void {
    // Until a line is written the parent's level decides: a child made now would take it.
    if (this.#child === undefined && this.parent.isLevelEnabled?.(level) === false) return;
    (this.#real()[level] as LogCall)(...args);
  }

  #real(): MaybeLeveled {
    return (this.#child ??= this.parent.child(this.bindings, this.options) as MaybeLeveled);
  }
}

/** Fastify's `childLoggerFactory`. */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: object): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
