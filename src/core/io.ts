/**
 * Output streams and what is known about the terminal. Data goes to stdout; spinners, progress,
 * warnings and errors to stderr. Colour and spinners appear only on a TTY, and never on stdout
 * when the output is JSON.
 */

/** What `-o/--output` accepts. */
export const OUTPUT_FORMATS = ['text', 'json', 'yaml', 'junit', 'markdown'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The smallest writable the CLI needs: process streams and test buffers both fit. */
export interface TextSink {
  write(text: string): unknown;
}

export interface IOStreams {
  stdout: TextSink;
  stderr: TextSink;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Whether stderr/stdout text may be coloured (TTY, NO_COLOR, FORCE_COLOR and --no-color decided). */
  color: boolean;
  /** The width text wraps to: the terminal's, else 80. */
  width?: number;
}

/** Decides colour the way users expect: --no-color and NO_COLOR win, FORCE_COLOR forces, else TTY. */
export function colorEnabled(options: {
  flag: boolean | undefined;
  env: Record<string, string | undefined>;
  isTTY: boolean;
}): boolean {
  if (options.flag === false) return false;
  if (options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== '') return false;
  const force = options.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return options.isTTY;
}

/** An in-memory sink, for tests and for capturing a command's output. */
export class BufferSink implements TextSink {
  private chunks: string[] = [];
  write(text: string): boolean {
    this.chunks.push(text);
    return true;
  }
  text(): string {
    return this.chunks.join('');
  }
}
