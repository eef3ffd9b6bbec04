import { didYouMean } from '../core/suggest.js';
import { Command } from 'commander';
import { DIAGNOSE_SECTION_INFO, diagnoseSectionNamed } from '../checks/sections.js';
import { UsageError } from '../core/errors.js';
import { HELP_WIDTH, examples, optionsOf, type CommandHost } from './host.js';
import { listRow } from '../render/wrap.js';

/** `diagnose <section>`: the diagnosis steps of one of the runbook's Common Issues. */
export function diagnoseCommand(host: CommandHost): Command {
  const names = Object.keys(DIAGNOSE_SECTION_INFO);
  const command = new Command('diagnose');
  // A section's own flags are the command's; using one with another section is a usage error.
  const owners = new Map<string, string>();
  for (const [name, section] of Object.entries(DIAGNOSE_SECTION_INFO)) {
    for (const option of section.options?.() ?? []) {
      command.addOption(option);
      owners.set(option.attributeName(), name);
    }
  }
  return command
    .argument('<section>', `one of: ${names.join(', ')}`)
    .option(
      '--status-page <name=url>',
      "ai-provider: read this provider's status page instead of the configured ones (repeatable)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addHelpText(
      'after',
      `\nSections:\n${Object.entries(DIAGNOSE_SECTION_INFO).map(([n, info]) => listRow(`  ${n.padEnd(16)} `, info.summary, HELP_WIDTH)).join('\n')}\n` +
        examples(
          ...names.map((n) => `aegis-ir diagnose ${n}`),
          `aegis-ir diagnose ${names[0] ?? '<section>'} -o json`,
          'aegis-ir diagnose memory --save-profile heap.pb.gz',
          'aegis-ir diagnose memory --compare 30s --timeout 1m',
        ),
    )
    .action(async (section: string, options: Record<string, unknown> & { statusPage?: string[] }, command: Command) => {
      const name = diagnoseSectionNamed(section);
      if (!name) {
        throw new UsageError(
          `unknown diagnose section "${section}"${didYouMean(section, names)}; expected one of: ${names.join(', ')}`,
          'aegis-ir diagnose --help',
        );
      }
      for (const [key, owner] of owners) {
        if (options[key] !== undefined && owner !== section) {
          throw new UsageError(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is a flag of diagnose ${owner}, not of diagnose ${section}`, `aegis-ir diagnose ${owner} --help`);
        }
      }
      const ctx = await host.context(command, options.statusPage ? { 'aiProvider.providers': options.statusPage.join(',') } : {});
      // The checks load when a section runs, not for `diagnose --help`.
      const [{ assess }, { DIAGNOSE_SECTIONS }] = await Promise.all([import('../checks/assess.js'), import('../checks/registry.js')]);
      const chosen = DIAGNOSE_SECTIONS[name];
      const checks = [...(chosen.withOptions?.(options, ctx.config) ?? chosen.checks), ...(chosen.configured?.(ctx.config) ?? [])];
      const report = await assess(ctx, `diagnose ${section}`, checks, [...(chosen.correlations ?? [])]);
      await (await import('../incident/journal.js')).journalVerdict(ctx, report);
      host.exit(await (await import('./report-output.js')).emitReport(ctx, report, Boolean(optionsOf(command).verbose)));
    });
}
