import { didYouMean } from '../core/suggest.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { RUNBOOK_FILE } from '../core/findings.js';
import { renderMarkdown } from '../render/markdown.js';
import { paint } from '../render/style.js';
import { matchSections, parseRunbook, type Runbook, type RunbookSection } from '../runbook/markdown.js';
import { packageRoot } from '../sandbox/package-root.js';
import { DOCUMENT_FORMATS, SCHEMA_VERSION, print, requireFormat } from '../render/output.js';
import { examples, type CommandHost } from './host.js';

/** Reads and parses the runbook shipped with aegis-ir, from beside its package.json (source tree or bundle alike). */
export function loadRunbook(): Runbook {
  return parseRunbook(runbookMarkdown());
}

function runbookMarkdown(): string {
  return readFileSync(join(packageRoot(), RUNBOOK_FILE), 'utf8');
}

/** `runbook [section]`: the runbook's contents, or one section and its subsections, rendered for the terminal. */
export function runbookCommand(host: CommandHost): Command {
  return new Command('runbook')
    .argument('[section]', 'an anchor id, or a unique start or word of one (triage, db, memory, escalation)')
    .option('--all', 'the whole runbook, every section')
    .addHelpText(
      'after',
      examples(
        'aegis-ir runbook                              # table of contents',
        'aegis-ir runbook triage                       # Triage Procedure, steps 1–3',
        'aegis-ir runbook db                           # Issue: Database Connection Failures',
        'aegis-ir runbook runbooks/incident-response.md#issue-high-memory-usage   # a finding\'s link',
        'aegis-ir runbook escalation -o json',
        'aegis-ir runbook --all | less -R                 # all of it',
      ),
    )
    .action(async (query: string | undefined, options: { all?: boolean }, command: Command) => {
      const ctx = await host.context(command);
      requireFormat(ctx, DOCUMENT_FORMATS);
      const runbook = loadRunbook();
      const document = (body: Record<string, unknown>) => ({ schemaVersion: SCHEMA_VERSION, command: 'runbook', ...body });
      if (options.all) {
        if (query !== undefined) throw new UsageError(`--all prints every section; leave out "${query}"`, 'aegis-ir runbook --all');
        const markdown = runbookMarkdown();
        await print(ctx, { document: document({ markdown }), text: ({ color, width }) => renderMarkdown(markdown, { color, width: width ?? 80 }) });
        return;
      }
      if (query === undefined) {
        await print(ctx, {
          document: document({ sections: runbook.sections.map(({ id, title, level }) => ({ id, title, level })) }),
          text: ({ color }) => contentsText(runbook, color),
          hint: 'Show a section with: aegis-ir runbook <section>, or all of it with: aegis-ir runbook --all',
        });
        return;
      }
      const { id, title, markdown } = chooseSection(runbook, query);
      await print(ctx, { document: document({ section: { id, title, markdown } }), text: ({ color, width }) => renderMarkdown(markdown, { color, width: width ?? 80 }) });
    });
}

/** The one section `query` names; a usage error listing the choices when it names none or several. */
function chooseSection(runbook: Runbook, query: string): RunbookSection {
  const matches = matchSections(runbook, query);
  if (matches.length === 1) return matches[0]!;
  const ids = (matches.length ? matches : runbook.sections).map((s) => s.id).join(', ');
  throw new UsageError(
    matches.length
      ? `runbook section "${query}" is ambiguous: it could be ${ids}`
      : `unknown runbook section "${query}"${didYouMean(query, runbook.sections.flatMap((s) => [s.id, ...s.id.split('-')]))}; sections: ${ids}`,
    'aegis-ir runbook',
  );
}

/** The title, then one line per section: its id (what to type) and its title, indented by depth. */
function contentsText(runbook: Runbook, color: boolean): string {
  const c = paint(color);
  const indent = (level: number): string => '  '.repeat(level - 1);
  const width = Math.max(...runbook.sections.map((s) => indent(s.level).length + s.id.length));
  const lines = runbook.sections.map((s) => {
    const pad = indent(s.level);
    return `${pad}${c.cyan(s.id.padEnd(width - pad.length))}  ${s.title}`;
  });
  return `${c.bold(runbook.title)}\n\n${lines.join('\n')}\n`;
}
