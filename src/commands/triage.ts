import { Command } from 'commander';
import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { emitReport } from './report-output.js';
import { examples, optionsOf, type CommandHost } from './host.js';

/**
 * Runs every triage check concurrently, each under its own deadline, then classifies the SEV and
 * names a rollout that preceded the symptoms.
 */
export async function triage(ctx: Context): Promise<Report> {
  // The checks load when triage runs, not for `triage --help`.
  const [{ assess }, { TRIAGE_CHECKS, TRIAGE_CORRELATIONS }] = await Promise.all([import('../checks/assess.js'), import('../checks/registry.js')]);
  return assess(ctx, 'triage', TRIAGE_CHECKS, [...TRIAGE_CORRELATIONS]);
}

export function triageCommand(host: CommandHost): Command {
  return new Command('triage')
    .addHelpText(
      'after',
      examples(
        'aegis-ir triage',
        'aegis-ir triage -o json --fail-on SEV2      # CI smoke test: exit 3 on SEV1/SEV2',
        'aegis-ir triage --kubeconfig ~/.kube/prod -n aegis --timeout 20s',
      ),
    )
    .action(async (_options, command: Command) => {
      const ctx = await host.context(command);
      host.exit(emitReport(ctx, await triage(ctx), Boolean(optionsOf(command).verbose)));
    });
}
