// The message of a JSON or YAML syntax error without the excerpt of the input that the parsers
// quote: the text around a syntax error in configuration is often a key or a password, and this
// message is printed and logged.

export function describeParseError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, ' (not valid JSON)')
    .split(':\n')[0];
}
