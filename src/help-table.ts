import { readFileSync } from 'node:fs';
import { HELP_WIDTH } from './commands/host.js';

/**
 * What the commands that print only fixed text print — every visible command's `--help`, by its path ('' for
 * the program, `fix rollback`), and `--version` — as the build wrote it from the CLI itself into `help.json`
 * beside the bundle. Such a run needs neither commander nor any command module: it starts at plain-node speed.
 */
export type HelpTable = Record<string, string>;

/** The key of `aegis-ir --version` in the table. */
export const VERSION_KEY = '--version';

/**
 * The table's key for `argv` when it asks for fixed text and nothing else: `[]`, `--help`, `fix rollback -h`,
 * `help fix rollback`, `--version`. Any other word (a flag, a value, an operand) leaves the run to the CLI.
 */
export function fixedTextKey(argv: readonly string[]): string | undefined {
  if (argv.length === 1 && argv[0] === VERSION_KEY) return VERSION_KEY;
  const last = argv.at(-1);
  const words = argv.length === 0 ? [] : argv[0] === 'help' ? argv.slice(1) : last === '--help' || last === '-h' ? argv.slice(0, -1) : undefined;
  if (!words || words.some((word) => word.startsWith('-'))) return undefined;
  return words.join(' ');
}

/**
 * The text `argv` prints, from the table at `file`, or undefined: not a request for fixed text, no such path in
 * the table (the CLI then says what is wrong), no table (a run from the sources), or a terminal narrower than
 * the help's width, to which the CLI wraps it.
 */
export function fixedText(argv: readonly string[], stdout: { isTTY?: boolean; columns?: number }, file: URL): string | undefined {
  const key = fixedTextKey(argv);
  if (key === undefined || (stdout.isTTY && (stdout.columns ?? 0) < HELP_WIDTH)) return undefined;
  let table: HelpTable;
  try {
    table = JSON.parse(readFileSync(file, 'utf8')) as HelpTable;
  } catch {
    return undefined;
  }
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
