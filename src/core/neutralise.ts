/**
 * Text from the systems inspected (log lines, exec output, API messages, names, a web page) may hold
 * terminal control sequences: a log line can clear the screen, set the window title or ring the bell.
 * Before such text reaches a terminal every control character but newline and tab is shown as an
 * escape (`\x1b`, `\x07`, `\u202e`), so it reads as what it is and does nothing.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function neutralise(text: string): string {
  return text.replace(CONTROL, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** {@link neutralise} applied to every string inside `value` (a report, before it is rendered as text). */
export function neutraliseAll<T>(value: T): T {
  if (typeof value === 'string') return neutralise(value) as T;
  if (Array.isArray(value)) return value.map(neutraliseAll) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, neutraliseAll(v)])) as T;
  }
  return value;
}

/** The first line of a library's or a server's message, neutralised and kept short: no stack, dump or control sequence reaches the operator. */
export function messageLine(text: string): string {
  const first = neutralise(text.split('\n')[0]?.trim() ?? '');
  return first.length > 160 ? `${first.slice(0, 157)}...` : first;
}
