// The command's logger: pino, at the level -v/-vv/-q ask for, as JSON lines (--log-json) or as
// readable text lines (no pino-pretty dependency: the JSON line is reformatted here).
import { pino, type Logger } from 'pino';

export interface LogSettings {
  verbose: number;
  quiet: boolean;
  logJson: boolean;
}

export interface TextSink {
  write(text: string): unknown;
}

/** The reference's levels: quiet = errors only, -v = debug, -vv = trace. */
export function logLevel(s: LogSettings): pino.Level {
  if (s.quiet) return 'error';
  if (s.verbose >= 2) return 'trace';
  if (s.verbose === 1) return 'debug';
  return 'info';
}

export function createLogger(settings: LogSettings, sink: TextSink): Logger {
  const destination = settings.logJson ? sink : textLines(sink);
  return pino(
    { level: logLevel(settings), base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function textLines(sink: TextSink): { write(line: string): void } {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        sink.write(line);
        return;
      }
      const { time, level, msg, ...fields } = entry;
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const name = LEVEL_NAMES[level as number] ?? String(level);
      sink.write(`${String(time)} ${name.padEnd(5)} ${String(msg ?? '')}${extra ? ' ' + extra : ''}\n`);
    },
  };
}

/**
 * The line for a configuration that could not be read, before any logger exists: a JSON log line
 * when --log-json or IRMASERVER_LOG_JSON asked for JSON (a log collector must not meet text),
 * else the plain text line.
 */
export function configurationFailure(message: string, flags: Record<string, unknown>, env: Record<string, string | undefined>): string {
  const text = `failed to read configuration: ${message}`;
  const json = flags.log_json === true || /^(1|t|true|yes|y|on)$/i.test(env.IRMASERVER_LOG_JSON?.trim() ?? '');
  if (!json) return `irma-server: ${text}\n`;
  return JSON.stringify({ level: 50, time: new Date().toISOString(), msg: text }) + '\n';
}
