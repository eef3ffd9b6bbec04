import { Command } from 'commander';
import { ExitCode } from '../core/errors.js';
import manifest from '../../package.json' with { type: 'json' };
import type { CommandHost } from './host.js';

/**
 * `__man`: the manual page `aegis-ir.1`, generated from the same help every command prints (the build writes it to
 * `dist/aegis-ir.1`, which `npm install -g` links into the man path), so the two never disagree.
 */
export function manCommand(host: CommandHost, program: () => Promise<Command>): Command {
  return new Command('__man').action(async () => {
    host.runtime.stdout.write(manPage(await program()));
    host.exit(ExitCode.ok);
  });
}

/** Every visible command's help, root first, as one roff page. */
export function manPage(program: Command): string {
  const sections: string[] = [];
  const visit = (command: Command, path: string): void => {
    sections.push(`.SS "${path}"\n.nf\n${roff(helpOf(command))}\n.fi`);
    for (const child of command.commands) {
      if (!(child as unknown as { _hidden?: boolean })._hidden) visit(child, `${path} ${child.name()}`);
    }
  };
  visit(program, 'aegis-ir');
  return [
    `.TH AEGIS-IR 1 "" "aegis-ir ${manifest.version}" "User Commands"`,
    '.SH NAME',
    `aegis-ir \\- ${roff(program.description())}`,
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

/** The command's --help exactly as printed, examples included. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text.trimEnd();
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
