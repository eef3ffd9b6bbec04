import { Command, InvalidArgumentError } from 'commander';
import { ExitCode, UsageError } from '../core/errors.js';
import { runRemediation } from '../remediations/engine.js';
import { REMEDIATIONS } from '../remediations/registry.js';
import type { Remediation } from '../remediations/remediation.js';
import { fixDocument, fixText, remediationListDocument, remediationListText } from '../remediations/render.js';
import { examples, optionsOf, type CommandHost } from './host.js';

/** `fix <remediation>`: one guarded remediation per subcommand; `fix --list` shows them all with their risk. */
export function fixCommand(host: CommandHost): Command {
  const fix = new Command('fix')
    .option('--list', 'list every remediation with its risk')
    .addHelpText(
      'after',
      `\nRemediations:\n${remediationListText(REMEDIATIONS, false)}` +
        examples('aegis-ir fix --list', 'aegis-ir fix db-connections --dry-run', 'aegis-ir fix db-connections --yes -o json'),
    )
    .action(async (_options, command: Command) => {
      const ctx = await host.context(command);
      if (!optionsOf(command).list) {
        throw new UsageError('name the remediation to apply', 'aegis-ir fix --list');
      }
      ctx.io.stdout.write(
        ctx.config.output === 'json'
          ? `${JSON.stringify(remediationListDocument(REMEDIATIONS), null, 2)}\n`
          : remediationListText(REMEDIATIONS, ctx.io.color),
      );
      host.exit(ExitCode.ok);
    });
  for (const remediation of REMEDIATIONS) fix.addCommand(remediationCommand(host, remediation));
  return fix;
}

function remediationCommand(host: CommandHost, remediation: Remediation): Command {
  const command = new Command(remediation.id)
    .description(`${remediation.summary} (risk: ${remediation.risk})`)
    .option('--dry-run', 'print the plan (exactly what would be done) and change nothing');
  for (const option of remediation.options()) command.addOption(option);
  if (remediation.cap) {
    command.option(
      '--max <n>',
      `safety cap override: at most this many ${remediation.cap.unit} (default ${remediation.cap.default})`,
      positiveInteger,
    );
  }
  return command
    .addHelpText('after', `\n${remediation.description}\n${examples(...remediation.examples)}`)
    .action(async (options: Record<string, unknown>, self: Command) => {
      const ctx = await host.context(self);
      const report = await runRemediation(ctx, remediation, options, {
        dryRun: Boolean(options.dryRun),
        yes: Boolean(optionsOf(self).yes),
        max: options.max as number | undefined,
      });
      ctx.io.stdout.write(
        ctx.config.output === 'json' ? `${JSON.stringify(fixDocument(report), null, 2)}\n` : fixText(report, ctx.io.color),
      );
      host.exit(report.exitCode);
    });
}

/** Parses a flag that counts something: a whole number of at least 1. */
export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${text}"`);
  return value;
}
