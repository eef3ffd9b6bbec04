import { Command } from 'commander';
import { ExitCode } from '../core/errors.js';
import manifest from '../../package.json' with { type: 'json' };
import { VERSION_KEY, type HelpTable } from '../help-table.js';
import type { CommandHost } from './host.js';

/**
 * `__man`: the manual page `aegis-ir.1`, generated from the same help every command prints (the build writes it to
 * `dist/aegis-ir.1`, which `npm install -g` links into the man path), so the two never disagree.
 */
export function manCommand(host: CommandHost, program: (argv: readonly string[]) => Promise<Command>): Command {
  return new Command('__man').action(async () => {
    host.runtime.stdout.write(await manPage(program));
    host.exit(ExitCode.ok);
  });
}

/**
 * `__help-table`: the table of fixed text (every visible command's help, and `--version`) that the build writes
 * to `dist/help.json`, for runs that ask for nothing else (src/help-table.ts).
 */
export function helpTableCommand(host: CommandHost, program: (argv: readonly string[]) => Promise<Command>): Command {
  return new Command('__help-table').action(async () => {
    const table: HelpTable = Object.fromEntries((await helpTexts(program)).map(({ path, text }) => [path.join(' '), text]));
    table[VERSION_KEY] = `${(await program([])).version() ?? ''}\n`;
    host.runtime.stdout.write(`${JSON.stringify(table)}\n`);
    host.exit(ExitCode.ok);
  });
}

/**
 * Every visible command's help exactly as `aegis-ir PATH --help` prints it, by its path below the program, root
 * first: each from the program as a run naming that path builds it.
 */
async function helpTexts(program: (argv: readonly string[]) => Promise<Command>): Promise<{ path: string[]; text: string }[]> {
  const texts: { path: string[]; text: string }[] = [];
  const visit = async (path: string[]): Promise<void> => {
    let command = await program(path);
    for (const name of path) command = command.commands.find((c) => c.name() === name) ?? command;
    texts.push({ path, text: helpOf(command) });
    for (const child of command.commands) {
      if (!(child as unknown as { _hidden?: boolean })._hidden) await visit([...path, child.name()]);
    }
  };
  await visit([]);
  return texts;
}

/** Every visible command's help, root first, as one roff page. */
export async function manPage(program: (argv: readonly string[]) => Promise<Command>): Promise<string> {
  const texts = await helpTexts(program);
  const sections = texts.map(({ path, text }) => `.SS "${['aegis-ir', ...path].join(' ')}"\n.nf\n${roff(text.trimEnd())}\n.fi`);
  const root = await program([]);
  return [
    `.TH AEGIS-IR 1 "" "aegis-ir ${manifest.version}" "User Commands"`,
    '.SH NAME',
    `aegis-ir \\- ${roff(root.description())}`,
    '.SH SYNOPSIS',
    '.B aegis-ir',
    '[\\fIflags\\fR] \\fIcommand\\fR [\\fIsubcommand\\fR] [\\fIflags\\fR]',
    '.br',
    '.B kubectl aegis',
    '\\fIcommand\\fR ...',
    '.SH COMMANDS',
    ...sections,
    '.SH SEE ALSO',
    'aegis-ir runbook, kubectl(1), psql(1)',
    '',
  ].join('\n');
}

/** The command's --help exactly as printed. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

/** Text set literally: backslashes escaped, and no line read as a roff request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    // Not every roff reads UTF-8: other characters as named glyphs (\[u2013] for –).
    .replace(/[^\x00-\x7f]/gu, (ch) => `\\[u${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}
