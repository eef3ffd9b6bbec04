import { Command } from 'commander';
import { assess } from '../checks/assess.js';
import { TRIAGE_CHECKS, TRIAGE_CORRELATIONS } from '../checks/registry.js';
import type { Report } from '../checks/verdict.js';
import type { Context } from '../core/context.js';
import { optionsOf } from '../core/app.js';
import { emitReport } from './report-output.js';
import { examples, type CommandHost } from './host.js';

/**
 * Runs every triage check concurrently, each under its own deadline, then classifies the SEV and
 * names a rollout that preceded the symptoms.
 */
export function triage(ctx: Context): Promise<Report> {
  return assess(ctx, 'triage', TRIAGE_CHECKS, [...TRIAGE_CORRELATIONS]);
}

export function triageCommand(host: CommandHost): Command {
  return new Command('triage')
    .description('Triage steps 1–3: pods, resource use, rollouts, error logs and health; classify the SEV')
    .addHelpText(
      'after',
      examples(
        'aegis-ir triage',
        'aegis-ir triage -o json --fail-on SEV2      # CI smoke test: exit 3 on SEV1/SEV2',
        'aegis-ir triage --kubeconfig ~/.kube/prod -n aegis --timeout 20s',
      ),
    )
    .action(async (_options, command: Command) => {
      const ctx = host.context(command);
      host.exit(emitReport(ctx, await triage(ctx), Boolean(optionsOf(command).verbose)));
    });
}
