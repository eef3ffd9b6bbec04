import { Command } from 'commander';
import { assess } from '../checks/assess.js';
import { DIAGNOSE_SECTIONS } from '../checks/registry.js';
import { UsageError } from '../core/errors.js';
import { emitReport } from './report-output.js';
import { examples, optionsOf, type CommandHost } from './host.js';

/** `diagnose <section>`: the diagnosis steps of one of the runbook's Common Issues. */
export function diagnoseCommand(host: CommandHost): Command {
  const names = Object.keys(DIAGNOSE_SECTIONS);
  return new Command('diagnose')
    .argument('<section>', `one of: ${names.join(', ')}`)
    .option(
      '--status-page <name=url>',
      "ai-provider: read this provider's status page instead of the configured ones (repeatable)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addHelpText(
      'after',
      `\nSections:\n${names.map((n) => `  ${n.padEnd(16)} ${DIAGNOSE_SECTIONS[n]?.summary ?? ''}`).join('\n')}\n` +
        examples(...names.map((n) => `aegis-ir diagnose ${n}`), `aegis-ir diagnose ${names[0] ?? '<section>'} -o json`),
    )
    .action(async (section: string, options: { statusPage?: string[] }, command: Command) => {
      const chosen = DIAGNOSE_SECTIONS[section];
      if (!chosen) {
        throw new UsageError(
          `unknown diagnose section "${section}"; expected one of: ${names.join(', ')}`,
          'aegis-ir diagnose --help',
        );
      }
      const ctx = await host.context(command, options.statusPage ? { 'aiProvider.providers': options.statusPage.join(',') } : {});
      const checks = [...chosen.checks, ...(chosen.configured?.(ctx.config) ?? [])];
      const report = await assess(ctx, `diagnose ${section}`, checks, [...(chosen.correlations ?? [])]);
      host.exit(emitReport(ctx, report, Boolean(optionsOf(command).verbose)));
    });
}
